//! The chat subscriptions: a room's events, its new messages, typing, and a user's own events.

use super::*;

#[derive(Default)]
pub struct ChatSubscription;

#[Subscription]
impl ChatSubscription {
    /// Every event of one room, in the order it was committed. Ends when the viewer is removed.
    async fn chat_room_events(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
    ) -> Result<impl Stream<Item = Result<ChatRoomEvent>>> {
        let (me, room) = watch(ctx, &room_id).await?;
        Ok(shared(
            ctx,
            Share::Role,
            room_events(&state(ctx)?.events, room, &me),
        ))
    }

    /// New messages of one room only. Ends when the viewer is removed.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
    ) -> Result<impl Stream<Item = Result<ChatMessage>>> {
        let (me, room) = watch(ctx, &room_id).await?;
        let messages = room_events(&state(ctx)?.events, room, &me).filter_map(|item| async move {
            match item {
                Ok(ChatRoomEvent::MessageCreated(MessageCreated(m))) => Some(Ok(ChatMessage(m))),
                Ok(_) => None,
                Err(err) => Some(Err(err)),
            }
        });
        Ok(shared(ctx, Share::Role, messages))
    }

    /// Others typing in one room.
    async fn typing_indicator(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
    ) -> Result<impl Stream<Item = Result<TypingEvent>>> {
        let (me, room) = watch(ctx, &room_id).await?;
        let me_id = me.user_id;
        let others =
            room_events(&state(ctx)?.events, room, &me).filter_map(move |item| async move {
                match item {
                    Ok(ChatRoomEvent::TypingEvent(t)) if t.user_id != me_id => Some(Ok(t)),
                    Ok(_) => None,
                    Err(err) => Some(Err(err)),
                }
            });
        // Each viewer's own typing is left out: one rendering per viewer.
        Ok(shared(ctx, Share::Viewer, others))
    }

    /// Everything addressed to the viewer: activity in their rooms, notifications, presence.
    async fn my_events(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Result<UserEvent>>> {
        let me = viewer(ctx)?.identity()?.user_id;
        let deliveries = state(ctx)?.events.subscribe(Topic::User(me));
        let events = deliveries.filter_map(|delivery| async move {
            match delivery {
                Delivery::Missed(n) => Some(Err(missed(n))),
                Delivery::Event(event) => {
                    if let Some(ChatEvent::RoomActivity { room_id }) = event.get::<ChatEvent>() {
                        return Some(Ok(UserEvent::RoomActivity(RoomActivity {
                            room_id: *room_id,
                        })));
                    }
                    if let Some(NotificationEvent::Created { notification }) = event.get() {
                        return Some(Ok(UserEvent::NotificationCreated(NotificationCreated(
                            notification.clone().into(),
                        ))));
                    }
                    let presence = event.get::<crate::presence::PresenceChanged>()?;
                    Some(Ok(UserEvent::PresenceChanged(PresenceChanged {
                        user_id: presence.user_id,
                        is_online: presence.is_online,
                        last_seen_at: presence.last_seen_at,
                    })))
                }
            }
        });
        Ok(shared(ctx, Share::Viewer, events))
    }
}

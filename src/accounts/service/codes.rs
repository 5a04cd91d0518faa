//! One-time codes: throttled sends, issuing and checking.

use super::*;

/// Counts a code request against the address's limits (one per interval, a few per hour),
/// whether or not the address has an account, so the answer tells nothing about accounts.
#[tracing::instrument(skip_all)]
pub(super) async fn throttle_send(
    state: &AppState,
    purpose: Purpose,
    target: &str,
) -> AppResult<()> {
    let otp = &state.config.otp;
    let key = format!("code:{}:{target}", purpose.as_str());
    state
        .limiter
        .hit(&[
            Rule::new(format!("{key}:interval"), 1, otp.resend_interval),
            Rule::new(
                format!("{key}:hour"),
                otp.max_per_hour,
                std::time::Duration::from_secs(3600),
            ),
        ])
        .await
        .map(drop)
        .map_err(|retry_after_seconds| AppError::RateLimited {
            retry_after_seconds,
        })
}

/// Makes a new code (which replaces any earlier one for the same purpose and address) and sends
/// it. A failed delivery is logged, not shown: the user can ask again.
#[tracing::instrument(skip_all, fields(user_id = ?user_id))]
pub(super) async fn deliver_code(
    state: &AppState,
    purpose: Purpose,
    target: &str,
    user_id: Option<Uuid>,
) {
    let result = async {
        let code = issue_code(state, purpose, target, user_id).await?;
        let minutes = state.config.otp.ttl.as_secs().div_ceil(60);
        match purpose {
            Purpose::VerifyEmail => {
                let body = format!(
                    "Welcome to AutoHub.\n\nYour verification code is {code}.\nIt is valid for {minutes} minutes.\n"
                );
                state.mailer.send(target, "Your AutoHub verification code", body).await
            }
            Purpose::ResetPassword => {
                let body = format!(
                    "Someone asked to reset the password of your AutoHub account.\n\nYour reset code is {code}.\nIt is valid for {minutes} minutes. If it was not you, ignore this message.\n"
                );
                state.mailer.send(target, "Your AutoHub password reset code", body).await
            }
            Purpose::PhoneLogin => {
                let body = format!("Your AutoHub sign-in code is {code}. It is valid for {minutes} minutes.");
                state.sms.send(target, &body).await
            }
        }
    }
    .await;
    if let Err(err) = result {
        tracing::error!(purpose = purpose.as_str(), error = ?err.code(), "could not deliver a code");
    }
}

#[tracing::instrument(skip_all, fields(user_id = ?user_id))]
pub(super) async fn issue_code(
    state: &AppState,
    purpose: Purpose,
    target: &str,
    user_id: Option<Uuid>,
) -> AppResult<String> {
    let code = otp::generate();
    let now = clock::now();
    let row = one_time_code::ActiveModel {
        id: Set(Uuid::now_v7()),
        purpose: Set(purpose.as_str().to_string()),
        target: Set(target.to_string()),
        user_id: Set(user_id),
        code_hash: Set(otp::hash(
            state.config.jwt_secret.expose(),
            purpose,
            target,
            &code,
        )),
        attempts: Set(0),
        expires_at: Set(now + clock::span(state.config.otp.ttl)),
        consumed_at: Set(None),
        created_at: Set(now),
    };
    let target = target.to_string();
    let txn = state.db.begin().await?;
    // The newest code wins: every earlier one for this purpose and address dies.
    one_time_code::Entity::update_many()
        .col_expr(one_time_code::Column::ConsumedAt, Expr::value(now))
        .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
        .filter(one_time_code::Column::Target.eq(target))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .exec(&txn)
        .await?;
    row.insert(&txn).await?;
    txn.commit().await?;
    Ok(code)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Consume {
    Yes,
    No,
}

pub(super) fn wrong_code() -> AppError {
    AppError::bad_input("code", "This code is wrong or no longer valid.")
}

/// Checks a code. Each check first takes one of the code's tries in a single conditional
/// update, so concurrent guesses cannot exceed the limit; a right code is then used up
/// (`Consume::Yes`, also conditional: a code works once) or its try given back.
#[tracing::instrument(skip_all)]
pub(super) async fn check_code(
    state: &AppState,
    purpose: Purpose,
    target: &str,
    code: &str,
    consume: Consume,
) -> AppResult<()> {
    let code = code.trim();
    let now = clock::now();
    let row = one_time_code::Entity::find()
        .filter(one_time_code::Column::Purpose.eq(purpose.as_str()))
        .filter(one_time_code::Column::Target.eq(target))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .order_by_desc(one_time_code::Column::CreatedAt)
        .order_by_desc(one_time_code::Column::Id)
        .one(&state.db)
        .await?
        .ok_or_else(wrong_code)?;
    if row.expires_at <= now {
        return Err(AppError::bad_input(
            "code",
            "This code has expired. Ask for a new one.",
        ));
    }
    let took_a_try = one_time_code::Entity::update_many()
        .col_expr(
            one_time_code::Column::Attempts,
            Expr::col(one_time_code::Column::Attempts).add(1),
        )
        .filter(one_time_code::Column::Id.eq(row.id))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .filter(one_time_code::Column::Attempts.lt(state.config.otp.max_attempts))
        .exec(&state.db)
        .await?
        .rows_affected
        == 1;
    if !took_a_try {
        return Err(AppError::bad_input(
            "code",
            "Too many wrong tries for this code. Ask for a new one.",
        ));
    }
    let expected = otp::hash(state.config.jwt_secret.expose(), purpose, target, code);
    if expected != row.code_hash {
        return Err(wrong_code());
    }
    let update = one_time_code::Entity::update_many().filter(one_time_code::Column::Id.eq(row.id));
    let done = match consume {
        Consume::Yes => update
            .col_expr(one_time_code::Column::ConsumedAt, Expr::value(now))
            .filter(one_time_code::Column::ConsumedAt.is_null()),
        Consume::No => update.col_expr(
            one_time_code::Column::Attempts,
            Expr::col(one_time_code::Column::Attempts).sub(1),
        ),
    }
    .exec(&state.db)
    .await?
    .rows_affected
        == 1;
    if done {
        Ok(())
    } else {
        Err(wrong_code())
    }
}

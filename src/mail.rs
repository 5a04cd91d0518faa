//! Outgoing mail with lettre: SMTP when `SMTP_URL` is set, otherwise a file transport that writes
//! each message as an `.eml` file under `MAIL_DIR` (so that development and tests can read codes).

use std::path::PathBuf;

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;
use crate::error::AppError;

enum Transport {
    File {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| format!("MAIL_FROM: cannot use {:?}: {e}", config.mail_from))?;
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    // The URL may hold a password: name the variable, not the value.
                    .map_err(|e| format!("SMTP_URL: cannot use it: {e}"))?
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&config.mail_dir).map_err(|e| {
                    format!("MAIL_DIR: cannot create {}: {e}", config.mail_dir.display())
                })?;
                Transport::File {
                    transport: AsyncFileTransport::new(&config.mail_dir),
                    dir: config.mail_dir.clone(),
                }
            }
        };
        Ok(Self { transport, from })
    }

    /// Sends a plain-text message. The body may hold a code: it is never logged.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), AppError> {
        let to: Mailbox = to.parse().map_err(AppError::internal)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.clone())
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(AppError::internal)?;
        match &self.transport {
            Transport::File { transport, dir } => {
                let id = transport.send(message).await.map_err(AppError::internal)?;
                tracing::info!(to = %to.email, subject, file = %dir.join(format!("{id}.eml")).display(), "mail written");
            }
            Transport::Smtp(transport) => {
                transport.send(message).await.map_err(AppError::internal)?;
                tracing::info!(to = %to.email, subject, "mail sent");
            }
        }
        Ok(())
    }
}

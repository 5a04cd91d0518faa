//! Outgoing SMS: POSTed as JSON to `SMS_GATEWAY_URL` when set; otherwise the log sender, which
//! logs that a message went out and writes its text under `MAIL_DIR/sms/` for development.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;
use crate::error::AppError;

pub enum SmsSender {
    Log {
        dir: PathBuf,
    },
    Http {
        url: String,
        client: reqwest::Client,
    },
}

impl SmsSender {
    pub fn from_config(config: &Config) -> Result<Self, String> {
        match &config.sms_gateway_url {
            Some(url) => {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .map_err(|e| format!("SMS_GATEWAY_URL: cannot make a client: {e}"))?;
                Ok(Self::Http {
                    url: url.clone(),
                    client,
                })
            }
            None => {
                let dir = config.mail_dir.join("sms");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("MAIL_DIR: cannot create {}: {e}", dir.display()))?;
                Ok(Self::Log { dir })
            }
        }
    }

    /// Sends `body` to `to`. The body may hold a code: it is never logged.
    pub async fn send(&self, to: &str, body: &str) -> Result<(), AppError> {
        match self {
            Self::Log { dir } => {
                let file = dir.join(format!("{}.txt", uuid::Uuid::now_v7()));
                tokio::fs::write(&file, format!("To: {to}\n\n{body}\n"))
                    .await
                    .map_err(AppError::internal)?;
                tracing::info!(to = %mask(to), file = %file.display(), "sms written");
            }
            Self::Http { url, client } => {
                let response = client
                    .post(url)
                    .json(&serde_json::json!({ "to": to, "body": body }))
                    .send()
                    .await
                    .map_err(AppError::internal)?;
                if !response.status().is_success() {
                    return Err(AppError::internal(format!(
                        "sms gateway answered {}",
                        response.status()
                    )));
                }
                tracing::info!(to = %mask(to), "sms sent");
            }
        }
        Ok(())
    }
}

/// `+15550102030` → `+1555•••030`: enough to follow a log, not enough to harvest numbers.
fn mask(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "•••".into();
    }
    let head: String = chars[..5].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}•••{tail}")
}

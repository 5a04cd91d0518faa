//! Mail through a real SMTP listener, and SMS through an HTTP gateway, both on loopback.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::common::{code_in, TestApp, PASSWORD};

/// A minimal SMTP server: accepts every message and keeps its DATA.
async fn smtp_listener() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test ESMTP\r\n").await.ok();
                let mut in_data = false;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            store.lock().unwrap().push(std::mem::take(&mut data));
                            write.write_all(b"250 2.0.0 queued\r\n").await.ok();
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-test\r\n250 8BITMIME\r\n",
                        "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"502 unknown\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn a_verification_code_reaches_a_real_smtp_listener() {
    let (port, received) = smtp_listener().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::spawn_with(&[
        ("SMTP_URL", &url),
        ("MAIL_FROM", "AutoHub <hello@autohub.test>"),
    ])
    .await;
    app.register("smtp@example.com").await;
    let message = {
        let got = received.lock().unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        got[0].clone()
    };
    assert!(message.contains("To: smtp@example.com"), "{message}");
    assert!(
        message.contains("From: AutoHub <hello@autohub.test>"),
        "{message}"
    );
    let c = code_in(&message);
    // Nothing went to files, and the code works.
    assert!(app.mails_to("smtp@example.com").is_empty());
    let r = app
        .gql("mutation($c: String!) { verifyEmail(email: \"smtp@example.com\", code: $c) { accessToken } }", json!({ "c": c }))
        .await;
    assert!(r["data"]["verifyEmail"]["accessToken"].is_string(), "{r}");
}

#[tokio::test]
async fn a_phone_code_is_posted_to_the_sms_gateway() {
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let store = received.clone();
    let gateway = axum::Router::new().route(
        "/send",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gateway).await });

    let app = TestApp::spawn_with(&[("SMS_GATEWAY_URL", &url)]).await;
    app.gql(
        "mutation($i: RegisterInput!) { register(input: $i) { id } }",
        json!({ "i": { "email": "sms@example.com", "password": PASSWORD, "firstName": "S", "lastName": "M", "phone": "+15550107777", "acceptTerms": true } }),
    )
    .await;
    let c = app.mailed_code("sms@example.com");
    app.gql("mutation($c: String!) { verifyEmail(email: \"sms@example.com\", code: $c) { accessToken } }", json!({ "c": c }))
        .await;
    app.gql(
        "mutation { requestPhoneLoginCode(phone: \"+15550107777\") }",
        json!({}),
    )
    .await;

    let body = received
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("the gateway got a message");
    assert_eq!(body["to"], "+15550107777");
    let texted = code_in(body["body"].as_str().unwrap());
    let r = app
        .gql("mutation($c: String!) { loginWithPhoneCode(phone: \"+15550107777\", code: $c) { accessToken } }", json!({ "c": texted }))
        .await;
    assert!(
        r["data"]["loginWithPhoneCode"]["accessToken"].is_string(),
        "{r}"
    );
}

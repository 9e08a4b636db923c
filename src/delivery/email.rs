//! E-mail over SMTP with `lettre`: STARTTLS (required, not opportunistic), TLS from the first
//! byte, or plain for a relay on the same host and for tests. The password, when set, is the
//! secret `password`; the user name is public configuration.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::DeliveryError;
use crate::domain::notification::{ChannelConfig, Message, Secrets, SmtpSecurity};

pub async fn send(
    config: &ChannelConfig,
    secrets: &Secrets,
    message: &Message,
    timeout: Duration,
) -> Result<(), DeliveryError> {
    let ChannelConfig::Email {
        host,
        port,
        security,
        username,
        from,
        to,
    } = config
    else {
        return Err(DeliveryError::Request("not an e-mail channel".into()));
    };
    let mut builder = lettre::Message::builder()
        .from(
            from.parse()
                .map_err(|e| DeliveryError::Email(format!("from: {e}")))?,
        )
        .subject(message.title())
        .header(ContentType::TEXT_PLAIN);
    for rcpt in to {
        builder = builder.to(rcpt
            .parse()
            .map_err(|e| DeliveryError::Email(format!("to: {e}")))?);
    }
    let email = builder
        .body(message.text())
        .map_err(|e| DeliveryError::Email(e.to_string()))?;
    let transport = match security {
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(DeliveryError::Smtp)?,
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(DeliveryError::Smtp)?
        }
        SmtpSecurity::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
    };
    let mut transport = transport.port(*port).timeout(Some(timeout));
    if let Some(user) = username {
        let password = secrets.get("password").unwrap_or_default();
        transport = transport.credentials(Credentials::new(user.clone(), password.to_string()));
    }
    transport
        .build()
        .send(email)
        .await
        .map(|_| ())
        .map_err(DeliveryError::Smtp)
}

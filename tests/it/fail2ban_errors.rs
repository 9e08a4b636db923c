//! How fail2ban, database and domain errors reach API clients: status, error code and a message
//! that names what went wrong (the socket, the jail, the user, the value).

use bangui::domain::{BanIp, JailName};
use bangui::error::ApiError;
use bangui::fail2ban::{Fail2banDb, Fail2banError};

fn api(e: Fail2banError) -> ApiError {
    e.into()
}

#[test]
fn an_unreachable_fail2ban_is_a_bad_gateway_naming_the_socket() {
    let e = api(Fail2banError::Offline {
        socket: "/run/fail2ban/fail2ban.sock".into(),
        reason: "No such file or directory".into(),
    });
    assert_eq!((e.status.as_u16(), e.code), (502, "fail2ban_unavailable"));
    assert!(e.message.contains("/run/fail2ban/fail2ban.sock"));
    assert_eq!(e.details["socket"], "/run/fail2ban/fail2ban.sock");
}

#[test]
fn permission_denied_names_the_user_and_says_the_socket_is_root_only() {
    let e = api(Fail2banError::PermissionDenied {
        socket: "/run/fail2ban/fail2ban.sock".into(),
        user: "bangui (uid 998)".into(),
    });
    assert_eq!(
        (e.status.as_u16(), e.code),
        (502, "fail2ban_permission_denied")
    );
    assert!(e.message.contains("bangui (uid 998)") && e.message.contains("root-only"));
}

#[test]
fn each_fail2ban_failure_has_its_own_status_and_code() {
    let cases = [
        (
            Fail2banError::Timeout {
                socket: "s".into(),
                command: "banned".into(),
                seconds: 10,
            },
            504,
            "fail2ban_timeout",
        ),
        (
            Fail2banError::Protocol("bad".into()),
            502,
            "fail2ban_protocol_error",
        ),
        (
            Fail2banError::UnknownJail("ghost".into()),
            404,
            "jail_not_found",
        ),
        (
            Fail2banError::Rejected("not banned".into()),
            400,
            "fail2ban_rejected",
        ),
        (
            Fail2banError::Server {
                class: "builtins.Exception".into(),
                message: "boom".into(),
            },
            409,
            "fail2ban_error",
        ),
        (
            Fail2banError::Unsupported {
                command: "banned".into(),
                version: "0.10.4".into(),
            },
            501,
            "fail2ban_unsupported",
        ),
    ];
    for (err, status, code) in cases {
        let e = api(err);
        assert_eq!((e.status.as_u16(), e.code), (status, code), "{e}");
    }
    assert!(
        api(Fail2banError::UnknownJail("ghost".into()))
            .message
            .contains("ghost")
    );
}

#[test]
fn invalid_input_is_a_bad_request_naming_the_value() {
    let e: ApiError = BanIp::parse("example.com").unwrap_err().into();
    assert_eq!((e.status.as_u16(), e.code), (400, "invalid_ip"));
    assert!(e.message.contains("example.com"));
    let e: ApiError = JailName::parse("../x").unwrap_err().into();
    assert_eq!((e.status.as_u16(), e.code), (400, "invalid_jail"));
    let e = api(Fail2banError::Invalid(BanIp::parse("").unwrap_err()));
    assert_eq!(e.code, "invalid_ip");
}

#[tokio::test]
async fn an_unreadable_fail2ban_database_is_service_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let err = Fail2banDb::open(&dir.path().join("missing.sqlite3"))
        .await
        .unwrap_err();
    let e: ApiError = err.into();
    assert_eq!(
        (e.status.as_u16(), e.code),
        (503, "fail2ban_db_unavailable")
    );
    assert!(e.message.contains("missing.sqlite3"));
}

//! The safety net of [`JailConfigService`]: after a change is applied, probe fail2ban and the
//! jail, restore the previous file (and reload) when the jail did not come up or fail2ban died
//! within the watch window, and keep each automatic restore as a pending recovery until an
//! admin dismisses it.

use super::*;

impl JailConfigService {
    /// Whether fail2ban answers and whether it runs `jail`.
    pub(super) async fn probe(&self, jail: &JailName) -> (bool, bool) {
        match self.fail2ban.jails().await {
            Ok(list) => (true, list.iter().any(|j| j == jail.as_str())),
            Err(_) => (false, false),
        }
    }

    /// Restores the previous file, reloads fail2ban (if it answers) and records the recovery.
    pub(super) async fn roll_back(
        &self,
        jail: &JailName,
        receipt: &WriteReceipt,
        cause: &str,
    ) -> Result<(bool, bool), JailConfigError> {
        let restored = self.writer.restore(receipt)?;
        if restored
            && self.fail2ban.ping().await.is_ok()
            && let Err(e) = self.fail2ban.reload(None).await
        {
            tracing::warn!(jail = %jail, error = %e, "reload after restoring a jail file failed");
        }
        let (alive, runs) = self.probe(jail).await;
        let message = if restored {
            format!("{cause}; BanGUI restored the previous content of its file")
        } else {
            format!("{cause}; the file changed again since, so BanGUI left it as it is")
        };
        tracing::warn!(jail = %jail, %message, "jail configuration rolled back");
        config_recoveries::insert(
            &self.pool,
            &NewRecovery {
                at: chrono::Utc::now().timestamp(),
                jail: jail.as_str(),
                file: &receipt.path.display().to_string(),
                backup: receipt
                    .backup
                    .as_ref()
                    .map(|b| b.display().to_string())
                    .as_deref(),
                message: &message,
                fail2ban_running: alive,
                jail_running: runs,
            },
        )
        .await?;
        Ok((alive, runs))
    }

    /// Pings fail2ban for the watch window; if it stops answering, restores the previous file
    /// (fail2ban reads it when it starts again) and records the recovery.
    pub(super) fn spawn_watch(&self, jail: JailName, receipt: WriteReceipt) {
        let me = self.clone();
        tokio::spawn(async move {
            let step = (me.watch / 20).clamp(Duration::from_millis(200), Duration::from_secs(2));
            let deadline = tokio::time::Instant::now() + me.watch;
            let mut misses = 0;
            while tokio::time::Instant::now() < deadline {
                tokio::time::sleep(step).await;
                if me.fail2ban.ping().await.is_ok() {
                    misses = 0;
                    continue;
                }
                misses += 1;
                if misses >= 2 {
                    let _guard = me.lock(jail.as_str()).await;
                    let cause = format!(
                        "fail2ban stopped answering within {} s of the change",
                        me.watch.as_secs()
                    );
                    // A later change of this jail has its own watch: leave its file alone.
                    let superseded = me
                        .writer
                        .read_path(&receipt.path)
                        .map(|now| now != receipt.after)
                        .unwrap_or(false);
                    if superseded {
                        return;
                    }
                    if let Err(e) = me.roll_back(&jail, &receipt, &cause).await {
                        tracing::error!(jail = %jail, error = %e, "rollback after fail2ban died failed");
                    }
                    return;
                }
            }
        });
    }

    pub async fn pending(&self) -> Result<Vec<PendingRecovery>, JailConfigError> {
        Ok(config_recoveries::open(&self.pool)
            .await?
            .into_iter()
            .map(|r| PendingRecovery {
                id: r.id,
                at: chrono::DateTime::from_timestamp(r.at, 0)
                    .unwrap_or_default()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                jail: r.jail,
                file: r.file,
                backup: r.backup,
                message: r.message,
                fail2ban_running: r.fail2ban_running,
                jail_running: r.jail_running,
            })
            .collect())
    }

    pub async fn dismiss(&self, id: i64, by: &str) -> Result<(), JailConfigError> {
        if config_recoveries::dismiss(&self.pool, id, chrono::Utc::now().timestamp(), by).await? {
            Ok(())
        } else {
            Err(JailConfigError::RecoveryNotFound(id))
        }
    }
}

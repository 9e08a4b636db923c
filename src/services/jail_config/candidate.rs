//! Testing a candidate file before anything is written: `fail2ban-client -t` runs on a copy of
//! fail2ban's configuration directory (bounded in bytes and files, symlinks kept as symlinks)
//! holding the new content as BanGUI's file.

use super::*;

/// A copy of the configuration directory larger than this is refused (fail2ban's is < 1 MiB).
const MAX_COPY_BYTES: u64 = 64 << 20;
const MAX_COPY_FILES: usize = 20_000;

impl JailConfigService {
    /// Runs `fail2ban-client -t` on a copy of the configuration directory holding `after` as
    /// BanGUI's file.
    pub async fn test_candidate(
        &self,
        rel: &ConfigPath,
        after: Option<&str>,
    ) -> Result<ConfigTest, JailConfigError> {
        let copy = self
            .scratch
            .join(format!("config-test-{}", uuid::Uuid::new_v4().simple()));
        let src = self.config_dir().to_path_buf();
        let (c, r, a) = (copy.clone(), rel.relative(), after.map(str::to_string));
        let prepared = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut budget = (MAX_COPY_BYTES, MAX_COPY_FILES);
            copy_tree(&src, &c, &mut budget)?;
            let target = c.join(&r);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            match a {
                Some(text) => std::fs::write(&target, text),
                None => match std::fs::remove_file(&target) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                },
            }
        })
        .await
        .map_err(|e| JailConfigError::Scratch(e.to_string()))?;
        let result = match prepared {
            Ok(()) => self
                .fail2ban
                .test_config(&copy)
                .await
                .map_err(JailConfigError::from),
            Err(e) => Err(JailConfigError::Scratch(e.to_string())),
        };
        let _ = tokio::fs::remove_dir_all(&copy).await;
        result
    }
}

/// Copies a directory tree (symlinks as symlinks) within a budget of bytes and files.
fn copy_tree(src: &Path, dst: &Path, budget: &mut (u64, usize)) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let to = dst.join(entry.file_name());
        budget.1 = budget.1.checked_sub(1).ok_or_else(too_big)?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &to, budget)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &to)?;
        } else if kind.is_file() {
            let len = entry.metadata()?.len();
            budget.0 = budget.0.checked_sub(len).ok_or_else(too_big)?;
            std::fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}

fn too_big() -> std::io::Error {
    std::io::Error::other("fail2ban's configuration directory is too large to copy for a test")
}

//! Safe writes into fail2ban's configuration directory. BanGUI only ever writes `.local` files
//! inside allow-listed subdirectories (`jail.d`, `filter.d`, `action.d`) of the configured
//! directory, only files it created itself (they start with [`MARKER`]), never a `.conf` file and
//! never through a symlink. Every write is atomic (a temporary file in the same directory,
//! fsync, rename, fsync of the directory) and keeps the previous content twice: in the returned
//! [`WriteReceipt`] (for an automatic rollback) and as a copy in BanGUI's backup directory (for
//! the operator). The filters and actions editors reuse this module.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// The first line of every file BanGUI writes; a file without it is not BanGUI's.
pub const MARKER: &str = "# Managed by BanGUI";

/// Subdirectories of the configuration directory BanGUI may write into.
pub const WRITABLE_DIRS: [&str; 3] = ["jail.d", "filter.d", "action.d"];

/// Largest file BanGUI writes or reads back.
pub const MAX_BYTES: usize = 512 * 1024;

/// Why a write was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("{0} is not a file BanGUI may write: {1}")]
    NotAllowed(String, &'static str),
    #[error(
        "{0} exists and was not written by BanGUI (its first line is not `{MARKER}`); BanGUI \
         never rewrites such a file: move its settings elsewhere or remove it by hand"
    )]
    NotOwned(PathBuf),
    #[error("the content is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigFileError + '_ {
    move |source| ConfigFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A file BanGUI may write, relative to the configuration directory (`jail.d/sshd.local`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPath {
    dir: &'static str,
    name: String,
}

impl ConfigPath {
    /// `dir/name`: `dir` one of [`WRITABLE_DIRS`], `name` letters, digits, `.`, `_`, `-`,
    /// not starting with `.`, ending in `.local`.
    pub fn new(dir: &str, name: &str) -> Result<Self, ConfigFileError> {
        let shown = format!("{dir}/{name}");
        let dir = WRITABLE_DIRS.iter().find(|d| **d == dir).ok_or_else(|| {
            ConfigFileError::NotAllowed(shown.clone(), "not an allowed directory")
        })?;
        let ok = !name.starts_with('.')
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !ok {
            return Err(ConfigFileError::NotAllowed(shown, "not a plain file name"));
        }
        if !name.ends_with(".local") || name.len() <= ".local".len() {
            return Err(ConfigFileError::NotAllowed(
                shown,
                "BanGUI writes only .local files (never .conf)",
            ));
        }
        Ok(Self {
            dir,
            name: name.to_string(),
        })
    }

    pub fn relative(&self) -> String {
        format!("{}/{}", self.dir, self.name)
    }
}

/// What a write replaced; enough to undo it.
#[derive(Debug, Clone)]
pub struct WriteReceipt {
    pub path: PathBuf,
    /// The content before (`None`: the file did not exist).
    pub before: Option<String>,
    /// The content after (`None`: the file was removed).
    pub after: Option<String>,
    /// The copy of `before` in the backup directory.
    pub backup: Option<PathBuf>,
}

/// A file as it is on disk now.
#[derive(Debug, Clone)]
pub struct ExistingFile {
    pub text: String,
    /// Starts with [`MARKER`].
    pub owned: bool,
}

/// Writes into one configuration directory; cheap to clone.
#[derive(Debug, Clone)]
pub struct ConfigWriter {
    root: PathBuf,
    backup_dir: PathBuf,
}

impl ConfigWriter {
    pub fn new(root: impl Into<PathBuf>, backup_dir: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            backup_dir: backup_dir.into(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real path of `rel`, checked to lie in the real allowed directory (a symlinked
    /// subdirectory that leads elsewhere is refused) and not to be a symlink itself.
    pub fn resolve(&self, rel: &ConfigPath) -> Result<PathBuf, ConfigFileError> {
        let root = self.root.canonicalize().map_err(io(&self.root))?;
        let dir = root.join(rel.dir);
        if !dir.exists() {
            std::fs::create_dir(&dir).map_err(io(&dir))?;
        }
        let real_dir = dir.canonicalize().map_err(io(&dir))?;
        if real_dir != dir {
            return Err(ConfigFileError::NotAllowed(
                rel.relative(),
                "its directory is a symlink",
            ));
        }
        let path = real_dir.join(&rel.name);
        if path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        {
            return Err(ConfigFileError::NotAllowed(
                rel.relative(),
                "not a plain path",
            ));
        }
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if !meta.file_type().is_file() => Err(ConfigFileError::NotAllowed(
                rel.relative(),
                "it exists and is not a regular file",
            )),
            _ => Ok(path),
        }
    }

    /// The file's content now, or `None` when it does not exist.
    pub fn read(&self, rel: &ConfigPath) -> Result<Option<ExistingFile>, ConfigFileError> {
        let path = self.resolve(rel)?;
        read_existing(&path)
    }

    /// Replaces (or creates) `rel` with `content`, which must start with [`MARKER`]. Refuses
    /// to touch an existing file that BanGUI did not write.
    pub fn write(&self, rel: &ConfigPath, content: &str) -> Result<WriteReceipt, ConfigFileError> {
        if content.len() > MAX_BYTES {
            return Err(ConfigFileError::TooLarge);
        }
        if !content.starts_with(MARKER) {
            return Err(ConfigFileError::NotAllowed(
                rel.relative(),
                "the content does not start with BanGUI's marker",
            ));
        }
        let path = self.resolve(rel)?;
        let before = self.owned_before(&path)?;
        let backup = self.backup(rel, before.as_deref())?;
        atomic_write(&path, content)?;
        Ok(WriteReceipt {
            path,
            before,
            after: Some(content.to_string()),
            backup,
        })
    }

    /// Removes `rel` if it is BanGUI's (a missing file is fine).
    pub fn remove(&self, rel: &ConfigPath) -> Result<WriteReceipt, ConfigFileError> {
        let path = self.resolve(rel)?;
        let before = self.owned_before(&path)?;
        let backup = self.backup(rel, before.as_deref())?;
        if before.is_some() {
            std::fs::remove_file(&path).map_err(io(&path))?;
            sync_dir(&path)?;
        }
        Ok(WriteReceipt {
            path,
            before,
            after: None,
            backup,
        })
    }

    /// Puts back what `receipt` replaced, unless the file changed since (then nothing is done
    /// and `false` is returned, so a later edit is never thrown away).
    pub fn restore(&self, receipt: &WriteReceipt) -> Result<bool, ConfigFileError> {
        let now = read_existing(&receipt.path)?.map(|f| f.text);
        if now != receipt.after {
            return Ok(false);
        }
        match &receipt.before {
            Some(text) => atomic_write(&receipt.path, text)?,
            None => {
                if now.is_some() {
                    std::fs::remove_file(&receipt.path).map_err(io(&receipt.path))?;
                    sync_dir(&receipt.path)?;
                }
            }
        }
        Ok(true)
    }

    fn owned_before(&self, path: &Path) -> Result<Option<String>, ConfigFileError> {
        match read_existing(path)? {
            Some(f) if !f.owned => Err(ConfigFileError::NotOwned(path.to_path_buf())),
            Some(f) => Ok(Some(f.text)),
            None => Ok(None),
        }
    }

    fn backup(
        &self,
        rel: &ConfigPath,
        before: Option<&str>,
    ) -> Result<Option<PathBuf>, ConfigFileError> {
        let Some(text) = before else {
            return Ok(None);
        };
        std::fs::create_dir_all(&self.backup_dir).map_err(io(&self.backup_dir))?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
        let path = self
            .backup_dir
            .join(format!("{}.{}.{stamp}.bak", rel.dir, rel.name));
        atomic_write(&path, text)?;
        Ok(Some(path))
    }
}

fn read_existing(path: &Path) -> Result<Option<ExistingFile>, ConfigFileError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(ConfigFileError::NotAllowed(
                path.display().to_string(),
                "not a regular file",
            ));
        }
        Ok(meta) if meta.len() > MAX_BYTES as u64 => return Err(ConfigFileError::TooLarge),
        Ok(_) => {}
    }
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let owned = text.starts_with(MARKER);
    Ok(Some(ExistingFile { text, owned }))
}

/// Temporary file in the same directory (a name fail2ban's `*.local`/`*.conf` globs never
/// match), fsync, rename over the target, fsync of the directory.
fn atomic_write(path: &Path, content: &str) -> Result<(), ConfigFileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(
        ".{name}.{}.bangui-tmp",
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io(&tmp))?;
        f.write_all(content.as_bytes()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io(path))?;
        sync_dir(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn sync_dir(path: &Path) -> Result<(), ConfigFileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, ConfigWriter) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        let w = ConfigWriter::new(dir.path().join("etc"), dir.path().join("backups"));
        (dir, w)
    }

    #[test]
    fn only_local_files_in_allowed_directories_are_writable() {
        for (d, n) in [
            ("jail.d", "sshd.conf"),
            ("jail.d", "../jail.local"),
            ("jail.d", ".hidden.local"),
            ("jail.d", ".local"),
            ("etc", "sshd.local"),
            ("jail.d", "a/b.local"),
        ] {
            assert!(ConfigPath::new(d, n).is_err(), "{d}/{n}");
        }
        assert!(ConfigPath::new("filter.d", "my-filter.local").is_ok());
    }

    #[test]
    fn writes_keep_a_backup_and_can_be_undone_but_foreign_files_are_never_touched() {
        let (dir, w) = setup();
        let rel = ConfigPath::new("jail.d", "sshd.local").unwrap();
        let first = format!("{MARKER}\n[sshd]\nbantime = 1h\n");
        let r1 = w.write(&rel, &first).unwrap();
        assert_eq!(r1.before, None);
        let second = format!("{MARKER}\n[sshd]\nbantime = 2h\n");
        let r2 = w.write(&rel, &second).unwrap();
        assert_eq!(r2.before.as_deref(), Some(first.as_str()));
        let backup = r2.backup.clone().unwrap();
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), first);
        assert!(w.restore(&r2).unwrap());
        assert_eq!(std::fs::read_to_string(&r2.path).unwrap(), first);
        // A file changed after the write is not restored over.
        assert!(!w.restore(&r2).unwrap());

        let foreign = dir.path().join("etc/jail.d/nginx.local");
        std::fs::write(&foreign, "[nginx]\nenabled = true\n").unwrap();
        let rel = ConfigPath::new("jail.d", "nginx.local").unwrap();
        assert!(matches!(
            w.write(&rel, &first),
            Err(ConfigFileError::NotOwned(_))
        ));
        assert!(matches!(w.remove(&rel), Err(ConfigFileError::NotOwned(_))));
        assert_eq!(
            std::fs::read_to_string(&foreign).unwrap(),
            "[nginx]\nenabled = true\n"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("etc/jail.d"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("bangui-tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_symlinked_directory_or_file_is_refused() {
        let (dir, w) = setup();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join("etc/filter.d")).unwrap();
        let rel = ConfigPath::new("filter.d", "x.local").unwrap();
        assert!(w.write(&rel, &format!("{MARKER}\n")).is_err());
        std::fs::create_dir(dir.path().join("etc/jail.d")).unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("target.local"),
            dir.path().join("etc/jail.d/l.local"),
        )
        .unwrap();
        let rel = ConfigPath::new("jail.d", "l.local").unwrap();
        assert!(w.write(&rel, &format!("{MARKER}\n")).is_err());
        assert!(!dir.path().join("target.local").exists());
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    }
}

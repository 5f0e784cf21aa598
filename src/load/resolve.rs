//! Where imported policy files come from: the [`ImportResolver`] trait, its
//! default folder-confined implementation [`FolderResolver`], and the
//! bounded reader every policy file goes through.
//!
//! Input: the id of an importing file and the path its `import` names.
//! Output: the imported file's id, display name and text, or why not.
//! Invariants: [`FolderResolver`] never yields a file outside its folder
//! (absolute paths, `..` and symlinks that leave it are refused after
//! canonicalizing); imports name `.pcl` files (the loader checks, whatever
//! the resolver); no read takes more than `Limits::max_policy_bytes` + 1
//! bytes; an error never carries the text of the file it refused.

use crate::limits::Limits;
use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// One file an [`ImportResolver`] found.
#[derive(Clone, Debug)]
pub struct ResolvedImport {
    /// Identity of the file: two imports that reach one file must give the
    /// same id, which is how repeats are loaded once and cycles are found.
    /// Later imports from this file are resolved with it as `importer`.
    pub id: String,
    /// The name diagnostics show for the file.
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// Why an import could not be resolved. The loader reports it as
/// `PCL209 unresolved-import` at the `import` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    /// One lowercase line, without the file's contents.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl ImportError {
    /// An error with a message and a help line.
    pub fn new(message: impl Into<String>, help: impl Into<String>) -> ImportError {
        ImportError {
            message: message.into(),
            help: Some(help.into()),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ImportError {}

/// Finds the files that `import "PATH"` names. Replace it to serve policy
/// files from memory, a database or a package; the default,
/// [`FolderResolver`], reads files inside one folder.
///
/// ```
/// use portcullis::{ImportError, ImportResolver, Limits, PolicySet, ResolvedImport};
///
/// struct Memory;
///
/// impl ImportResolver for Memory {
///     fn resolve(&self, _importer: &str, path: &str, _limits: &Limits)
///         -> Result<ResolvedImport, ImportError>
///     {
///         match path {
///             "base.pcl" => Ok(ResolvedImport {
///                 id: path.into(),
///                 name: path.into(),
///                 text: "actions: read\npolicy p for read { allow }".into(),
///             }),
///             _ => Err(ImportError::new(format!("no file `{path}`"), "serve it")),
///         }
///     }
/// }
///
/// let set = PolicySet::from_source_with("import \"base.pcl\"", &Memory).unwrap();
/// assert_eq!(set.actions().collect::<Vec<_>>(), ["read"]);
/// ```
pub trait ImportResolver {
    /// Resolves `path`, as written in an `import` of the file `importer`
    /// (an id this resolver returned earlier, or the entry's name). The
    /// text must be at most `limits.max_policy_bytes` long (the loader
    /// refuses longer text, but only after it has been read): read files
    /// with [`read_policy`], which stops reading there.
    fn resolve(
        &self,
        importer: &str,
        path: &str,
        limits: &Limits,
    ) -> Result<ResolvedImport, ImportError>;
}

/// The default resolver: imports resolve relative to the importing file,
/// and only to regular files inside one folder (the entry policy's, for
/// [`crate::PolicySet::from_file`]). Absolute paths are refused; `..` and
/// symlinks are allowed only while the canonical path stays inside.
#[derive(Clone, Debug)]
pub struct FolderResolver {
    /// The folder, canonical; `None` when it does not exist.
    root: Option<PathBuf>,
    /// The folder as given, for the names diagnostics show.
    shown: PathBuf,
}

impl FolderResolver {
    /// A resolver confined to `folder`.
    pub fn new(folder: impl AsRef<Path>) -> FolderResolver {
        let folder = folder.as_ref();
        let shown = if folder.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            folder.to_path_buf()
        };
        FolderResolver {
            root: shown.canonicalize().ok(),
            shown,
        }
    }

    /// The id of a file given by path (the entry): its canonical path
    /// inside the folder, or its file name when it is elsewhere.
    pub(crate) fn id_of(&self, path: &Path) -> String {
        let inside = match (&self.root, path.canonicalize()) {
            (Some(root), Ok(canonical)) => canonical.strip_prefix(root).ok().map(slash_path),
            _ => None,
        };
        inside.unwrap_or_else(|| {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }
}

/// A relative path with `/` between its parts.
fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

impl ImportResolver for FolderResolver {
    fn resolve(
        &self,
        importer: &str,
        path: &str,
        limits: &Limits,
    ) -> Result<ResolvedImport, ImportError> {
        let wanted = Path::new(path);
        if wanted
            .components()
            .any(|c| matches!(c, Component::RootDir | Component::Prefix(_)))
        {
            return Err(ImportError::new(
                format!("cannot import `{path}`: absolute paths are not allowed"),
                "write the path relative to the importing file; imports stay inside the policy's folder",
            ));
        }
        let Some(root) = &self.root else {
            return Err(ImportError::new(
                format!(
                    "cannot import `{path}`: the policy folder `{}` cannot be read",
                    self.shown.display()
                ),
                "check that the folder exists",
            ));
        };
        // The importer's folder: an id this resolver gave is a relative
        // path inside the root; any other name (an entry's) is at the root.
        let importer = Path::new(importer);
        let plain = importer
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        let dir = match importer.parent() {
            Some(parent) if plain => root.join(parent),
            _ => root.clone(),
        };
        let outside = || {
            ImportError::new(
                format!("cannot import `{path}`: it is outside the policy folder"),
                format!(
                    "imports resolve only inside `{}` (after following `..` and symlinks)",
                    self.shown.display()
                ),
            )
        };
        let canonical = match dir.join(wanted).canonicalize() {
            Ok(canonical) => canonical,
            // A missing file is reported as missing only when the path
            // would stay inside; otherwise the folder's outside is not
            // probed (whether something exists there is not said).
            Err(_) if leaves(wanted, dir.strip_prefix(root).unwrap_or(Path::new(""))) => {
                return Err(outside())
            }
            Err(err) => {
                let below = dir.strip_prefix(root).unwrap_or(Path::new(""));
                let folder = if below.as_os_str().is_empty() {
                    self.shown.clone()
                } else {
                    self.shown.join(below)
                };
                return Err(ImportError::new(
                    format!("cannot import `{path}`: {}", io_words(&err)),
                    format!(
                        "paths are relative to the importing file's folder (`{}`)",
                        folder.display()
                    ),
                ));
            }
        };
        let Ok(rel) = canonical.strip_prefix(root) else {
            return Err(outside());
        };
        let text = read_policy(&canonical, limits).map_err(|e| ImportError {
            message: format!("cannot import `{path}`: {}", e.message),
            help: e.help,
        })?;
        let id = slash_path(rel);
        let name = if self.shown == Path::new(".") {
            rel.display().to_string()
        } else {
            self.shown.join(rel).display().to_string()
        };
        Ok(ResolvedImport { name, id, text })
    }
}

/// Whether `path`, taken lexically from the folder `from` (relative to the
/// root), climbs out of the root.
fn leaves(path: &Path, from: &Path) -> bool {
    let mut depth = from.components().count();
    for c in path.components() {
        match c {
            Component::ParentDir if depth == 0 => return true,
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    false
}

/// An I/O error in words, without the OS's error number.
fn io_words(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}

/// Reads a policy file of at most `limits.max_policy_bytes`. Anything but
/// a regular file (a folder, a pipe, a device) is refused before it is
/// opened, and the reader takes at most one byte more than the limit, so a
/// longer file is an error after a bounded read. Errors never quote the
/// file's contents.
pub fn read_policy(path: &Path, limits: &Limits) -> Result<String, ImportError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => read_bounded(path, limits),
        Ok(_) => Err(ImportError::new(
            "not a regular file",
            "policy files are regular files, not folders, pipes or devices",
        )),
        Err(err) => Err(ImportError::new(
            io_words(&err),
            "check the path and its permissions",
        )),
    }
}

/// Reads at most `limits.max_policy_bytes` of any file (an entry named on
/// the command line may be a pipe): one byte more is an error.
pub(crate) fn read_bounded(path: &Path, limits: &Limits) -> Result<String, ImportError> {
    let file = std::fs::File::open(path)
        .map_err(|err| ImportError::new(io_words(&err), "check the path and its permissions"))?;
    let limit = limits.max_policy_bytes;
    let mut bytes = Vec::new();
    file.take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|err| ImportError::new(io_words(&err), "check the path and its permissions"))?;
    if bytes.len() > limit {
        return Err(ImportError::new(
            format!("the file is larger than the limit of {limit} bytes"),
            "raise `Limits::max_policy_bytes` or split the file",
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        ImportError::new(
            "the file is not UTF-8 text",
            "policy files are UTF-8 text; is this a policy file?",
        )
    })
}

/// Whether a path names a policy file (`.pcl`), the only kind an import
/// may name and the only kind whose text a diagnostic shows.
pub(crate) fn is_policy_path(path: &str) -> bool {
    Path::new(path).extension().is_some_and(|e| e == "pcl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_climbing_is_measured_from_the_importing_folder() {
        assert!(leaves(Path::new("../a.pcl"), Path::new("")));
        assert!(!leaves(Path::new("../a.pcl"), Path::new("sub")));
        assert!(leaves(Path::new("x/../../a.pcl"), Path::new("")));
        assert!(!leaves(Path::new("./x/../a.pcl"), Path::new("")));
    }

    #[test]
    fn policy_paths_end_in_pcl() {
        assert!(is_policy_path("a/b.pcl"));
        assert!(!is_policy_path("/proc/self/environ"));
        assert!(!is_policy_path("b.pcl.txt"));
    }
}

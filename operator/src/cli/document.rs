//! Reading a configuration file for a command: the file (or `-` for
//! standard input), its format (detected unless given) and the dialect it
//! names. Errors are whole sentences that start with the file name.

use std::io::Read;
use std::path::Path;

use bucketcors_engine::format::{self, Document, Format};

/// Reads and parses `path` (`-`: standard input), as `format` when given.
pub(crate) fn load(path: &Path, format: Option<Format>) -> Result<Document, String> {
    let name = path.display();
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("{name}: cannot read standard input: {e}"))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?
    };
    let document = match format {
        Some(format) => format::parse(&text, format).map(|config| Document {
            config,
            format,
            dialect: format.dialect(),
            target: None,
        }),
        None => format::parse_document(&text),
    };
    document.map_err(|e| format!("{name}: {e}"))
}

//! The browser view: one self-contained page (no CDN, no build step) served at `/`.

/// The page's HTML, with its script and styles inline.
pub const PAGE: &str = include_str!("../web/index.html");

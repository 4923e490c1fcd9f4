//! Who may do what: viewer and operator tokens.
//!
//! Tokens come from a file (`--tokens FILE`, TOML: `viewer = ["..."]`, `operator = ["..."]`)
//! and from the environment (`STORETWIN_VIEWER_TOKENS`, `STORETWIN_OPERATOR_TOKENS`,
//! comma-separated). They are compared in constant time and never logged (`Debug` prints
//! how many there are, not what they are). With no token configured the server is open
//! (everyone is an operator) and may only listen on a loopback address.
//!
//! A request presents its token as `Authorization: Bearer TOKEN`. A browser cannot set
//! headers on a WebSocket, so the stream also takes it as a subprotocol:
//! `new WebSocket(url, ["storetwin.v1", "bearer." + token])`.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// What a caller may do: a viewer reads, an operator also acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Operator,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }
}

/// The configured tokens.
#[derive(Clone, Default)]
pub struct Tokens {
    viewer: Vec<Vec<u8>>,
    operator: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens {{ {} viewer, {} operator }}", self.viewer.len(), self.operator.len())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    viewer: Vec<String>,
    #[serde(default)]
    operator: Vec<String>,
}

/// The environment variables tokens are also read from.
pub const VIEWER_ENV: &str = "STORETWIN_VIEWER_TOKENS";
pub const OPERATOR_ENV: &str = "STORETWIN_OPERATOR_TOKENS";

impl Tokens {
    /// Tokens from `file` (if given) and the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Tokens> {
        let mut tokens = Tokens::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
            let parsed: TokenFile = toml::from_str(&text).map_err(|e| {
                // The error's message would quote the offending line, token included.
                let at = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
                anyhow::anyhow!(
                    "{}:{}:{}: expected `viewer = [\"TOKEN\", ...]` and `operator = [\"TOKEN\", ...]` ({})",
                    path.display(),
                    at.0,
                    at.1,
                    e.message()
                )
            })?;
            for (role, list) in [(Role::Viewer, parsed.viewer), (Role::Operator, parsed.operator)] {
                for t in list {
                    tokens.add(role, &t).with_context(|| format!("{}: a {} token", path.display(), role.name()))?;
                }
            }
        }
        for (role, var) in [(Role::Viewer, VIEWER_ENV), (Role::Operator, OPERATOR_ENV)] {
            if let Ok(list) = std::env::var(var) {
                for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    tokens.add(role, t).with_context(|| format!("{var}: a {} token", role.name()))?;
                }
            }
        }
        Ok(tokens)
    }

    /// Adds a token. A token is 16 to 256 characters of `A-Z a-z 0-9 - . _ ~` (so that it
    /// can travel as a WebSocket subprotocol).
    pub fn add(&mut self, role: Role, token: &str) -> anyhow::Result<()> {
        if token.len() < 16 || token.len() > 256 {
            bail!("is {} characters long; a token has 16 to 256", token.len());
        }
        if let Some(c) = token.chars().find(|c| !(c.is_ascii_alphanumeric() || "-._~".contains(*c))) {
            bail!("has the character {c:?}; a token uses only A-Z, a-z, 0-9 and - . _ ~");
        }
        match role {
            Role::Viewer => self.viewer.push(token.as_bytes().to_vec()),
            Role::Operator => self.operator.push(token.as_bytes().to_vec()),
        }
        Ok(())
    }

    /// No token is configured: every caller is an operator.
    pub fn is_open(&self) -> bool {
        self.viewer.is_empty() && self.operator.is_empty()
    }

    /// The role `presented` grants, if any. Every configured token is compared, each in
    /// constant time, so the time taken tells nothing of which (or whether one) matched.
    pub fn role_of(&self, presented: Option<&str>) -> Option<Role> {
        if self.is_open() {
            return Some(Role::Operator);
        }
        let presented = presented?.as_bytes();
        let mut operator = subtle::Choice::from(0);
        for t in &self.operator {
            operator |= t.as_slice().ct_eq(presented);
        }
        let mut viewer = subtle::Choice::from(0);
        for t in &self.viewer {
            viewer |= t.as_slice().ct_eq(presented);
        }
        if bool::from(operator) {
            Some(Role::Operator)
        } else if bool::from(viewer) {
            Some(Role::Viewer)
        } else {
            None
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The token a request presents: `Authorization: Bearer TOKEN`, or for a WebSocket the
/// subprotocol `bearer.TOKEN`.
pub fn presented(req: &actix_web::HttpRequest) -> Option<String> {
    if let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned());
    }
    let protocols = req.headers().get(actix_web::http::header::SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?;
    protocols.split(',').map(str::trim).find_map(|p| p.strip_prefix("bearer.")).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_token_and_open_when_none() {
        let mut t = Tokens::default();
        assert_eq!(t.role_of(None), Some(Role::Operator));
        t.add(Role::Viewer, "viewer-token-0123456789").unwrap();
        t.add(Role::Operator, "operator-token-0123456789").unwrap();
        assert_eq!(t.role_of(None), None);
        assert_eq!(t.role_of(Some("viewer-token-0123456789")), Some(Role::Viewer));
        assert_eq!(t.role_of(Some("operator-token-0123456789")), Some(Role::Operator));
        assert_eq!(t.role_of(Some("operator-token-012345678")), None);
        assert_eq!(t.role_of(Some("")), None);
        assert!(!format!("{t:?}").contains("0123456789"));
    }

    #[test]
    fn a_short_or_odd_token_is_refused() {
        let mut t = Tokens::default();
        assert!(t.add(Role::Viewer, "short").unwrap_err().to_string().contains("16 to 256"));
        assert!(t.add(Role::Viewer, "has a space in it, long").unwrap_err().to_string().contains("' '"));
    }
}

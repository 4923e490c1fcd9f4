//! Sales channels: where a sale happened, as the centres count it.
//!
//! A sale is made in a store (at a lane, a self-checkout or by scan-and-go) or online,
//! through one of the [`OnlineChannel`]s. Settlement and the member centre keep their
//! counters per channel, in `Vec`s and arrays indexed by [`Channel::index`].

use crate::chain::spec::OnlineChannel;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    /// In a store, paid at checkout.
    Store,
    /// Online, paid in the app, mini-program or on the web (and fulfilled by a store).
    Online(OnlineChannel),
}

impl Channel {
    /// Every channel, in index order.
    pub const ALL: [Channel; 4] = [
        Channel::Store,
        Channel::Online(OnlineChannel::App),
        Channel::Online(OnlineChannel::MiniProgram),
        Channel::Online(OnlineChannel::Web),
    ];

    /// Number of channels (the length of [`Channel::ALL`]).
    pub const COUNT: usize = Channel::ALL.len();

    /// Position in [`Channel::ALL`].
    pub fn index(self) -> usize {
        match self {
            Channel::Store => 0,
            Channel::Online(OnlineChannel::App) => 1,
            Channel::Online(OnlineChannel::MiniProgram) => 2,
            Channel::Online(OnlineChannel::Web) => 3,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Channel::Store => "store",
            Channel::Online(online) => online.name(),
        }
    }

    pub fn is_online(self) -> bool {
        matches!(self, Channel::Online(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_the_position_in_all() {
        for (i, c) in Channel::ALL.iter().enumerate() {
            assert_eq!(c.index(), i, "{}", c.name());
        }
        assert!(!Channel::Store.is_online());
        assert!(Channel::ALL[1..].iter().all(|c| c.is_online()));
    }
}

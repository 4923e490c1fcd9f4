//! Property: whatever a planner's editor does to a scenario (a deleted or duplicated
//! line, a stray paste, a truncated file), loading it never panics, and a scenario that
//! does not load explains itself: every problem has a message and renders.

mod common;

use proptest::prelude::*;
use storetwin_scenarios::load_str;

const WEEKDAY: &str = include_str!("../weekday.toml");

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(f64),
    DuplicateLine(f64),
    /// Replace the characters from `at` (a fraction of the text) for `len` characters.
    Replace {
        at: f64,
        len: usize,
        with: String,
    },
    Truncate(f64),
}

/// Text that is likely to confuse a TOML parser or a checker.
fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[\\[\\]{}=\"'#.,\n 0-9a-z-]{0,8}",
        Just("'''".to_owned()),
        Just("\"\"\"".to_owned()),
        Just("[[lane]]\n".to_owned()),
        Just("= { dist = \"normal\" }".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("-1".to_owned()),
        Just("1e400".to_owned()),
        Just("nan".to_owned()),
        Just("0.123".to_owned()),
        Just("é€\u{0}\t\r".to_owned()),
        Just("24:00".to_owned()),
        Just("[65535, 65535]".to_owned()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64).prop_map(Mutation::DeleteLine),
        (0.0..1.0f64).prop_map(Mutation::DuplicateLine),
        (0.0..1.0f64, 0usize..40, junk()).prop_map(|(at, len, with)| Mutation::Replace { at, len, with }),
        (0.0..1.0f64).prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let line = |f: f64| ((f * lines.len() as f64) as usize).min(lines.len().saturating_sub(1));
    // Character boundaries only: the text stays valid UTF-8, as an editor keeps it.
    let boundary = |f: f64| {
        let chars = text.chars().count();
        let n = ((f * chars as f64) as usize).min(chars);
        text.char_indices().nth(n).map_or(text.len(), |(i, _)| i)
    };
    match m {
        Mutation::DeleteLine(f) => {
            let i = line(*f);
            lines.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, l)| *l).collect()
        }
        Mutation::DuplicateLine(f) => {
            let i = line(*f);
            lines.iter().enumerate().flat_map(|(j, l)| if j == i { vec![*l, *l] } else { vec![*l] }).collect()
        }
        Mutation::Replace { at, len, with } => {
            let start = boundary(*at);
            let end = text[start..].char_indices().nth(*len).map_or(text.len(), |(i, _)| start + i);
            format!("{}{with}{}", &text[..start], &text[end..])
        }
        Mutation::Truncate(f) => text[..boundary(*f)].to_owned(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_scenario_never_panics_and_always_explains_itself(
        mutations in prop::collection::vec(mutation(), 1..4)
    ) {
        let mut text = WEEKDAY.to_owned();
        for m in &mutations {
            text = apply(&text, m);
        }
        if let Err(error) = load_str("weekday.toml", &text) {
            prop_assert!(!error.problems().is_empty());
            prop_assert!(!error.to_string().trim().is_empty());
            for problem in error.problems() {
                prop_assert!(!problem.message().trim().is_empty(), "empty message: {problem:?}");
                let shown = common::render(problem);
                prop_assert!(shown.contains(problem.message()), "{shown}");
                if let Some(location) = problem.location() {
                    prop_assert!(location.line >= 1 && location.column >= 1);
                    prop_assert!(shown.contains("weekday.toml:"), "{shown}");
                }
            }
            prop_assert!(!common::render(&error).trim().is_empty());
        }
    }
}

#[test]
fn the_mutations_do_change_the_text() {
    let deleted = apply(WEEKDAY, &Mutation::DeleteLine(0.5));
    assert_eq!(deleted.lines().count() + 1, WEEKDAY.lines().count());
    let duplicated = apply(WEEKDAY, &Mutation::DuplicateLine(0.5));
    assert_eq!(duplicated.lines().count(), WEEKDAY.lines().count() + 1);
    let replaced = apply(WEEKDAY, &Mutation::Replace { at: 0.0, len: 1, with: "X".into() });
    assert!(replaced.starts_with('X') && replaced.len() == WEEKDAY.len());
    assert_eq!(apply(WEEKDAY, &Mutation::Truncate(0.0)), "");
    // A duplicated line of a table is a syntax error that the loader reports, not a panic.
    let err = load_str("weekday.toml", &apply(WEEKDAY, &Mutation::DuplicateLine(0.02))).err();
    assert!(err.is_none_or(|e| !e.problems().is_empty()));
}

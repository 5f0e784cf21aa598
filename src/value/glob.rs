//! The glob matcher behind `like`: linear time, no backtracking, no
//! allocation.

/// Glob matching: `*` matches any run of characters (including none); every
/// other character matches itself. Anchored at both ends. Never allocates,
/// and takes time linear in the pattern and the text together: the text
/// between the first and last pieces is searched for each middle piece in
/// turn, leftmost first (`str::find` is linear), and a piece once found is
/// never searched again, so there is no backtracking.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or("");
    let Some(rest) = text.strip_prefix(first) else {
        return false;
    };
    if first.len() == pattern.len() {
        // No `*`: the whole text.
        return rest.is_empty();
    }
    let last = pattern.rsplit('*').next().unwrap_or("");
    let Some(mut middle) = rest.strip_suffix(last) else {
        return false;
    };
    // The pieces between the first and the last `*`.
    let inner = pattern
        .get(first.len() + 1..pattern.len() - last.len())
        .unwrap_or("");
    for piece in inner.split('*').filter(|p| !p.is_empty()) {
        match middle.find(piece) {
            Some(at) => middle = middle.get(at + piece.len()..).unwrap_or(""),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod glob_tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("wms.*", "wms.read"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(!glob_match("wms.*", "sandbox.read"));
        assert!(glob_match("rs_*_read", "rs_x_y_read"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match("abc", "abc"));
        assert!(
            !glob_match("ab*ba", "aba"),
            "first and last pieces may not overlap"
        );
        assert!(glob_match("ab*ba", "abba"));
        assert!(glob_match("**a**", "xay"));
        assert!(glob_match("*a*a*", "aa"));
        assert!(!glob_match("*a*a*", "a"));
        assert!(glob_match("é*ü", "é-ü"));
        assert!(!glob_match("", "x"));
        assert!(glob_match("", ""));
    }

    /// The reference: a glob is a regular expression of literals and `.*`.
    fn by_regex(pattern: &str) -> regex::Regex {
        let body: Vec<String> = pattern.split('*').map(regex::escape).collect();
        regex::Regex::new(&format!("^(?s:{})$", body.join(".*"))).unwrap()
    }

    #[test]
    fn globs_agree_with_the_regular_expression_they_mean() {
        let alphabet = ["a", "b", "*", "ab", "é"];
        // Patterns and texts of up to five symbols over a small alphabet.
        let mut words = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..5 {
            frontier = frontier
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(frontier.iter().cloned());
        }
        let texts: Vec<&String> = words.iter().filter(|w| !w.contains('*')).collect();
        for p in words.iter().step_by(13) {
            let re = by_regex(p);
            for t in texts.iter().step_by(3) {
                assert_eq!(glob_match(p, t), re.is_match(t), "{p:?} {t:?}");
            }
        }
    }
}

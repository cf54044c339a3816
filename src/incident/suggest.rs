//! "Did you mean": the key or choice a near miss was probably meant to be. Used for
//! files and for answers typed into `compose`. The only strsim user.

use super::fields::Opt;

/// The spelling keys and choices use: lower case, words joined by hyphens.
pub fn normalize(text: &str) -> String {
    text.trim().to_lowercase().replace(['_', ' '], "-")
}

/// The candidate a key is a near miss of: the same after [`normalize`], or a few
/// typing errors away (a third of its length, at least one).
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed = normalize(input);
    candidates
        .into_iter()
        // Compared as keys are spelt: "tlp:amber" is a near miss of "TLP:AMBER".
        .map(|c| (strsim::damerau_levenshtein(&typed, &normalize(c)), c))
        .filter(|(distance, c)| *distance <= (c.chars().count() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// The option an answer means: its key, its Danish or English label, a word of a
/// label ("ransomware" is malware), or a near miss of a key.
pub fn choice(input: &str, options: &'static [Opt]) -> Option<&'static str> {
    let typed = normalize(input);
    if typed.is_empty() {
        return None;
    }
    if let Some(o) = options.iter().find(|o| typed == o.0 || typed == normalize(o.1) || typed == normalize(o.2)) {
        return Some(o.0);
    }
    // TLP 2.0 (FIRST, 2022) renamed WHITE to CLEAR: the old name means the new one.
    if matches!(typed.as_str(), "tlp:white" | "white")
        && let Some(o) = options.iter().find(|o| o.0 == "TLP:CLEAR")
    {
        return Some(o.0);
    }
    // A key without its prefix: "amber" is "TLP:AMBER".
    if let Some(o) = options.iter().find(|o| o.0.split_once(':').is_some_and(|(_, rest)| normalize(rest) == typed)) {
        return Some(o.0);
    }
    let words = |label: &str| label.to_lowercase().split(|c: char| !c.is_alphanumeric()).any(|w| w == typed);
    if typed.chars().count() >= 4
        && let Some(o) = options.iter().find(|o| words(o.1) || words(o.2))
    {
        return Some(o.0);
    }
    closest(&typed, options.iter().map(|o| o.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::choices::{Nature, Tlp, YesNoUnknown};

    #[test]
    fn near_misses_find_what_was_meant() {
        let keys = ["what-happened", "location", "nature", "nature-other"];
        assert_eq!(closest("what_happened", keys), Some("what-happened"));
        assert_eq!(closest("natur", keys), Some("nature"));
        assert_eq!(closest("Nature", keys), Some("nature"));
        assert_eq!(closest("colour", keys), None);
        assert_eq!(choice("Malware", Nature::OPTIONS), Some("malware"));
        assert_eq!(choice("ransomware", Nature::OPTIONS), Some("malware"));
        assert_eq!(choice("hackin", Nature::OPTIONS), Some("hacking"));
        assert_eq!(choice("Ved ikke", YesNoUnknown::OPTIONS), Some("unknown"));
        assert_eq!(choice("ja", YesNoUnknown::OPTIONS), Some("yes"));
        assert_eq!(choice("bananas", Nature::OPTIONS), None);
        assert_eq!(choice("tlp:amber+strict", Tlp::OPTIONS), Some("TLP:AMBER+STRICT"));
        assert_eq!(choice("amber", Tlp::OPTIONS), Some("TLP:AMBER"));
        assert_eq!(choice("TLP:WHITE", Tlp::OPTIONS), Some("TLP:CLEAR"));
        assert_eq!(choice("white", Nature::OPTIONS), None);
    }
}

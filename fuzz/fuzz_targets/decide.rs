//! Every bundled policy on arbitrary request and data JSON: never a panic,
//! and an evaluation error never allows. The first byte picks the bundle;
//! the rest is `request JSON \0 data JSON`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const BUNDLES: &[&str] = &["flexmeasures", "rs-server", "flask-rbac", "flip", "diracx"];

fn bundles() -> &'static Vec<portcullis::PolicySet> {
    static SETS: OnceLock<Vec<portcullis::PolicySet>> = OnceLock::new();
    SETS.get_or_init(|| {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
        BUNDLES
            .iter()
            .map(|b| portcullis::PolicySet::from_file(format!("{root}/{b}.pcl")).expect("bundle"))
            .collect()
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&pick, rest)) = bytes.split_first() else { return };
    let set = &bundles()[pick as usize % BUNDLES.len()];
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (request, data) = text.split_once('\0').unwrap_or((text, "{}"));
    let Ok(data) = portcullis::Data::from_json_str(data) else { return };
    let d = set.decide_json(request, &data);
    assert!(
        d.error.is_none() || d.outcome != portcullis::Outcome::Allow,
        "an error allowed"
    );
});

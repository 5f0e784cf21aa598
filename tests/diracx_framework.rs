//! The DiracX policy machinery that no single decision shows (bundle
//! `diracx`, spec section "Framework requirements"): every route checks a
//! policy or is declared open, extensions replace a policy by name from a
//! higher layer, and policies add claims to issued tokens.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Code, Data, Decision, Limits, Outcome, PolicyError, PolicySet, Request};
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};

fn policies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")
}

/// The shipped bundle: DiracX core with the gubbins extension layer.
fn shipped() -> PolicySet {
    PolicySet::from_file(policies_dir().join("diracx.pcl")).expect("the diracx bundle compiles")
}

/// A layer written in memory on top of the shipped files.
fn layer(text: &str) -> Result<PolicySet, PolicyError> {
    PolicySet::from_named_source("layer.pcl", text, &policies_dir(), Limits::default())
}

fn data() -> Data {
    Data::from_json(&json!({
        "jobs": [
            { "job_id": 1, "owner": "alice", "owner_group": "lhcb_user", "vo": "lhcb" },
            { "job_id": 4, "owner": "bob", "owner_group": "lhcb_user", "vo": "lhcb" },
        ],
        "sandbox_owners": [
            { "owner_id": 1, "owner": "alice", "owner_group": "lhcb_user", "vo": "lhcb" },
        ],
        "sandboxes": [
            { "se_name": "SE", "pfn": "/S3/sb/lhcb/lhcb_user/bob/b.tar.bz2", "owner_id": 2 },
        ],
        "pilots": [ { "pilot_stamp": "stamp-a", "vo": "lhcb" } ],
    }))
    .unwrap()
}

fn alice(properties: &[&str]) -> Json {
    json!({
        "sub": "lhcb:alice-sub",
        "preferred_username": "alice",
        "dirac_group": "lhcb_user",
        "vo": "lhcb",
        "properties": properties,
        "policies": {},
    })
}

fn decide(
    policy: &PolicySet,
    principal: Json,
    action: &str,
    resource: Json,
    context: Json,
) -> Decision {
    let request = Request::from_json(&json!({
        "principal": principal,
        "action": action,
        "resource": resource,
        "context": context,
    }))
    .unwrap();
    policy.decide(&request, &data())
}

/// A request with no resource and no context.
fn ask(policy: &PolicySet, principal: Json, action: &str) -> Decision {
    decide(policy, principal, action, Json::Null, Json::Null)
}

/// Bob's job, read by Alice: denied by the core `wms` policy.
fn read_bobs_job(policy: &PolicySet) -> Decision {
    let resource = json!({ "job_ids": [4] });
    let user = alice(&["NormalUser"]);
    decide(policy, user, "wms.read", resource, Json::Null)
}

/// Bob's sandbox, downloaded by Alice: denied by the core `sandbox` policy.
fn read_bobs_sandbox(policy: &PolicySet) -> Decision {
    let resource = json!({ "pfns": ["/S3/sb/lhcb/lhcb_user/bob/b.tar.bz2"] });
    let context = json!({ "required_prefix": "/S3/sb/lhcb/lhcb_user/bob/", "se_name": "SE" });
    let user = alice(&["NormalUser"]);
    decide(policy, user, "sandbox.read", resource, context)
}

fn issue_token(policy: &PolicySet) -> Decision {
    ask(policy, alice(&["NormalUser"]), "token.issue")
}

fn codes(policy: &PolicySet) -> Vec<Code> {
    policy.warnings().iter().map(|f| f.code).collect()
}

/// The error codes of a layer that must not compile.
fn errors_of(text: &str) -> Vec<Code> {
    let err: PolicyError = layer(text).unwrap_err();
    err.errors().map(|f| f.code).collect()
}

// ------------------------------------------------ every route checks a policy or is open

#[test]
fn every_declared_action_is_covered_or_open() {
    // The linter's counterpart of `test_all_routes_have_policy`: no
    // UncoveredAction (nor any other finding), gubbins actions included.
    let policy = shipped();
    assert!(policy.warnings().is_empty(), "{:?}", codes(&policy));
    let core = PolicySet::from_file(policies_dir().join("diracx/core.pcl")).unwrap();
    assert!(core.warnings().is_empty(), "{:?}", codes(&core));

    let mut actions: Vec<&str> = policy.actions().collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "config.read",
            "lollygag.create",
            "lollygag.manage",
            "lollygag.read",
            "my_pilots.create",
            "my_pilots.read",
            "pilot.manage_pilots",
            "pilot.read_pilot_metadata",
            "rss.read",
            "sandbox.create",
            "sandbox.manage",
            "sandbox.read",
            "well_known.read",
            "wms.create",
            "wms.manage",
            "wms.pilot",
            "wms.query",
            "wms.read",
        ]
    );
}

#[test]
fn a_route_without_a_policy_is_reported() {
    let policy = layer(
        r#"
        import "diracx.pcl"
        actions: lollygag.frobnicate, gubbins.frob
        "#,
    )
    .unwrap();
    // `lollygag.*` of the gubbins layer covers the new lollygag action;
    // nothing covers `gubbins.frob`, which is then always denied.
    assert_eq!(codes(&policy), [Code::UncoveredAction]);
    assert!(policy.warnings()[0].message.contains("gubbins.frob"));
    let d = ask(&policy, alice(&["NormalUser"]), "gubbins.frob");
    assert_eq!(d.outcome, Outcome::Deny);
}

#[test]
fn a_policy_that_reaches_no_deciding_statement_denies() {
    // No "forgot to call the policy": nothing applies, so the default deny.
    let policy = layer(
        r#"
        import "diracx.pcl"
        override policy rss { allow when principal.vo == "nowhere" }
        "#,
    )
    .unwrap();
    let d = ask(&policy, alice(&[]), "rss.read");
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.statements.is_empty());
    assert!(d.reason.contains("rss.read"), "{}", d.reason);
}

// ------------------------------------------------ overrides by name, in priority order

#[test]
fn an_extension_override_of_wms_decides_the_core_job_routes() {
    let before = shipped();
    assert_eq!(read_bobs_job(&before).outcome, Outcome::Deny);
    assert_eq!(read_bobs_sandbox(&before).outcome, Outcome::Deny);

    let extended = layer(
        r#"
        import "diracx.pcl"
        override policy wms { allow }
        "#,
    )
    .unwrap();
    assert!(extended.warnings().is_empty(), "{:?}", codes(&extended));

    let d = read_bobs_job(&extended);
    assert_eq!(d.outcome, Outcome::Allow);
    assert_eq!(&*d.statements[0].id, "wms#1");
    assert_eq!(&*d.statements[0].file, "layer.pcl");
    // The override keeps every action of the policy it replaces, even the
    // one the core refused as a route bug.
    let d = decide(
        &extended,
        alice(&[]),
        "wms.create",
        json!({ "job_ids": [] }),
        json!({}),
    );
    assert_eq!(d.outcome, Outcome::Allow);
    // Other names are untouched.
    let d = read_bobs_sandbox(&extended);
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(&*d.reason, "alice is not the owner of the sandbox");
    // The token check still runs before the overriding policy.
    let d = ask(&extended, Json::Null, "wms.read");
    assert_eq!(d.outcome, Outcome::Unauthenticated);
    assert_eq!(&*d.reason, "Authorization header is missing");
}

#[test]
fn the_highest_layer_wins() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("diracx_framework");
    std::fs::create_dir_all(&dir).unwrap();
    // Imports stay inside the entry's folder: the shipped files are copied
    // beside the layers.
    std::fs::create_dir_all(dir.join("diracx")).unwrap();
    for file in ["diracx.pcl", "diracx/core.pcl"] {
        std::fs::copy(policies_dir().join(file), dir.join(file)).unwrap();
    }
    let middle = dir.join("middle.pcl");
    std::fs::write(
        &middle,
        "import \"diracx.pcl\"\noverride policy wms { deny \"middle layer\" }\n",
    )
    .unwrap();
    let only_middle = PolicySet::from_file(&middle).unwrap();
    assert_eq!(&*read_bobs_job(&only_middle).reason, "middle layer");

    let top = PolicySet::from_named_source(
        "top.pcl",
        "import \"middle.pcl\"\noverride policy wms { top: allow }",
        &dir,
        Limits::default(),
    )
    .unwrap();
    let d = read_bobs_job(&top);
    assert_eq!(d.outcome, Outcome::Allow);
    assert_eq!(&*d.statements[0].id, "wms.top");
}

#[test]
fn an_override_of_an_unknown_name_is_a_lint_finding() {
    // Upstream: "Could not find any matches for access_policy_name='dfc'".
    let policy = layer(
        r#"
        import "diracx.pcl"
        override policy dfc { allow }
        "#,
    )
    .unwrap();
    assert_eq!(codes(&policy), [Code::OverrideNothing]);
    assert!(policy.warnings()[0].message.contains("dfc"));

    // A misspelt name changes nothing, and the finding suggests the real one.
    let policy = layer(
        r#"
        import "diracx.pcl"
        override policy my_pilot { deny }
        "#,
    )
    .unwrap();
    assert_eq!(codes(&policy), [Code::OverrideNothing]);
    let help = policy.warnings()[0].help.clone().unwrap_or_default();
    assert!(help.contains("my_pilots"), "{help}");
    let d = ask(&policy, alice(&[]), "my_pilots.read");
    assert_eq!(d.outcome, Outcome::Allow);
}

#[test]
fn an_extension_must_say_override_to_replace_a_name() {
    let codes = errors_of("import \"diracx.pcl\"\npolicy wms for wms.read { allow }");
    assert!(codes.contains(&Code::DuplicatePolicy), "{codes:?}");
}

#[test]
fn an_override_keeps_the_actions_of_the_policy_it_replaces() {
    let codes = errors_of("import \"diracx.pcl\"\noverride policy wms for wms.read { allow }");
    assert!(codes.contains(&Code::MisplacedStatement), "{codes:?}");
}

#[test]
fn a_policy_for_an_action_no_layer_declares_is_an_error() {
    let codes = errors_of("import \"diracx.pcl\"\npolicy jobs for jobs.delete { allow }");
    assert!(codes.contains(&Code::UndeclaredAction), "{codes:?}");
}

// ------------------------------------------------ claims added to issued tokens

#[test]
fn shipped_policies_add_no_claims() {
    // The shipped bundle issues no token: issuance is not a DiracX route.
    let d = issue_token(&shipped());
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.reason.contains("token.issue"), "{}", d.reason);
    assert!(d.claims.is_none());
    // A layer that allows issuance gets the shipped policies' claims: none.
    let issuing = layer(&format!("import \"diracx.pcl\"\n{ISSUING}")).unwrap();
    let d = issue_token(&issuing);
    assert_eq!(d.outcome, Outcome::Allow);
    assert_eq!(
        d.claims.unwrap().to_json(),
        json!({ "access": {}, "refresh": {} })
    );
    // Issuance is for an authenticated caller.
    let d = ask(&issuing, Json::Null, "token.issue");
    assert_eq!(d.outcome, Outcome::Unauthenticated);
}

/// A layer that issues tokens: the action and the policy that allows it.
const ISSUING: &str = "token actions: token.issue\npolicy token for token.issue { allow }";

/// The DiracX test harness: an always-allow policy in front of every name,
/// adding `{"PolicySpecific": "OpenAccessForTest"}` to the access token.
const ALWAYS_ALLOW: &str = r#"
    import "diracx.pcl"
    override policy wms { allow  claims access: { PolicySpecific: "OpenAccessForTest" } }
    override policy sandbox { allow  claims access: { PolicySpecific: "OpenAccessForTest" } }
    override policy pilot { allow  claims access: { PolicySpecific: "OpenAccessForTest" } }
    override policy rss { allow  claims access: { PolicySpecific: "OpenAccessForTest" } }
    override policy lollygag { allow  claims access: { PolicySpecific: "OpenAccessForTest" } }
    override policy my_pilots { allow  claims access: { PolicySpecific: "OpenAccessForTest" } }
    token actions: token.issue
    policy token for token.issue { allow }
"#;

#[test]
fn the_always_allow_harness_opens_every_policy_and_adds_claims() {
    let policy = layer(ALWAYS_ALLOW).unwrap();
    assert!(policy.warnings().is_empty(), "{:?}", codes(&policy));

    assert_eq!(read_bobs_job(&policy).outcome, Outcome::Allow);
    assert_eq!(read_bobs_sandbox(&policy).outcome, Outcome::Allow);
    let d = ask(&policy, alice(&[]), "lollygag.manage");
    assert_eq!(d.outcome, Outcome::Allow);
    // Undeclared actions and missing tokens are not policies: unchanged.
    let d = ask(&policy, alice(&[]), "wms.delete");
    assert_eq!(d.outcome, Outcome::Deny);
    let d = ask(&policy, Json::Null, "rss.read");
    assert_eq!(d.outcome, Outcome::Unauthenticated);

    let d = issue_token(&policy);
    assert_eq!(d.outcome, Outcome::Allow);
    let open = json!({ "PolicySpecific": "OpenAccessForTest" });
    assert_eq!(
        d.claims.unwrap().to_json(),
        json!({
            "access": {
                "wms": open, "sandbox": open, "pilot": open,
                "rss": open, "lollygag": open, "my_pilots": open,
            },
            "refresh": {},
        })
    );
}

#[test]
fn claims_are_kept_apart_and_empty_ones_left_out() {
    let policy = layer(
        r#"
        import "diracx.pcl"
        token actions: token.issue
        policy token for token.issue { allow }
        override policy rss {
          allow
          claims access: {}
          claims refresh: { rss_refresh: principal.vo }
        }
        "#,
    )
    .unwrap();
    let d = issue_token(&policy);
    assert_eq!(
        d.claims.unwrap().to_json(),
        json!({ "access": {}, "refresh": { "rss": { "rss_refresh": "lhcb" } } })
    );
}

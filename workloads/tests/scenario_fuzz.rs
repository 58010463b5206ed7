//! The scenario loader never panics: arbitrary text, and well-formed files with arbitrary
//! field values, either load or return an error that names the problem. Whatever loads can
//! then generate keys and arrivals without panicking either.

use proptest::prelude::*;
use workloads::rng::{Stream, stream_rng};
use workloads::scenario::{ScenarioFile, WorkloadSpec};
use workloads::{ArrivalSchedule, KeyGenerator, LoadShape};

/// Values of every TOML type, including the awkward ones.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        (-5i64..5).prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| if v.is_finite() { format!("{v:?}") } else { "nan".into() }),
        prop_oneof![Just("inf"), Just("-inf"), Just("nan"), Just("0.0"), Just("-0.5"), Just("1.5")]
            .prop_map(String::from),
        "[a-z0-9 .:-]{0,12}".prop_map(|s| format!("{s:?}")),
        prop_oneof![
            Just("\"10s\""),
            Just("\"0s\""),
            Just("\"500ms\""),
            Just("\"-1s\""),
            Just("\"9999999h\""),
            Just("\"1ns\"")
        ]
        .prop_map(String::from),
        prop_oneof![
            Just("\"zipfian\""),
            Just("\"uniform\""),
            Just("\"hotspot\""),
            Just("\"latest\""),
            Just("\"sequential\"")
        ]
        .prop_map(String::from),
        Just("true".to_string()),
        Just("[1, 2, 3]".to_string()),
    ]
}

const FIELDS: &[&str] = &[
    "name",
    "family",
    "mode",
    "duration",
    "warmup",
    "ops",
    "concurrency",
    "rate",
    "arrivals",
    "keys",
    "dist",
    "zipf_theta",
    "hot_data_fraction",
    "hot_op_fraction",
    "value_size",
    "seed",
    "repeat",
    "interval",
    "nodes",
    "batch",
    "bogus",
];

fn scenario_text() -> impl Strategy<Value = String> {
    let fields = prop::collection::vec((prop::sample::select(FIELDS), value()), 0..10);
    let event = (prop::option::of(value()), prop::option::of(value()), value(), prop::option::of(value()));
    (fields, prop::collection::vec(event, 0..3), prop::option::of((value(), value()))).prop_map(
        |(fields, events, mix)| {
            let mut text = String::from("[[scenario]]\nfamily = \"hashing\"\n");
            let mut seen = std::collections::HashSet::new();
            for (field, value) in fields {
                if seen.insert(field) && field != "family" {
                    text.push_str(&format!("{field} = {value}\n"));
                }
            }
            if let Some((read, update)) = mix {
                text.push_str(&format!("[scenario.mix]\nread = {read}\nupdate = {update}\n"));
            }
            for (at, after_ops, action, node) in events {
                text.push_str("[[scenario.events]]\n");
                if let Some(at) = at {
                    text.push_str(&format!("at = {at}\n"));
                }
                if let Some(ops) = after_ops {
                    text.push_str(&format!("after_ops = {ops}\n"));
                }
                text.push_str(&format!("action = {action}\n"));
                if let Some(node) = node {
                    text.push_str(&format!("node = {node}\n"));
                }
            }
            text
        },
    )
}

/// Loads `text` and, if it loads, exercises what a run would do with it first.
fn load_and_use(text: &str) {
    let Ok(file) = ScenarioFile::parse(text, "fuzz") else { return };
    let Ok(workloads) = file.workloads("fuzz", &WorkloadSpec::default()) else { return };
    for workload in workloads.iter().flat_map(|w| [w.clone(), w.quick()]) {
        let keys = workload.keys.min(1 << 20);
        let mut generator = KeyGenerator::new(workload.dist, keys, 0, u64::from(workload.shape.workers()));
        let mut rng = stream_rng(workload.seed, Stream::Keys, 0);
        let mix = workload.mix.sampler();
        for _ in 0..16 {
            assert!(generator.next_key(&mut rng) < keys);
            mix.next_kind(&mut rng);
        }
        if let LoadShape::Open { rate_ops_s, arrivals, workers } = workload.shape {
            let mut schedule = ArrivalSchedule::new(arrivals, rate_ops_s, workload.seed);
            schedule.skip_until(
                workload.length.duration,
                workload.length.ops.unwrap_or(u64::MAX).min(u64::from(workers) << 20),
            );
            schedule.next_offset();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        load_and_use(&text);
    }

    #[test]
    fn arbitrary_field_values_never_panic(text in scenario_text()) {
        load_and_use(&text);
    }

    /// Same seed, same workload: the key sequence is a function of the seed alone.
    #[test]
    fn same_seed_same_keys(seed: u64, keys in 1u64..1_000_000, dist in 0usize..5, worker in 0u64..8) {
        let name = workloads::keys::DistributionName::ALL[dist];
        let dist = workloads::KeyDistribution::with_defaults(name);
        let draw = || {
            let mut generator = KeyGenerator::new(dist, keys, worker, 8);
            let mut rng = stream_rng(seed, Stream::Keys, worker);
            (0..64).map(|_| generator.next_key(&mut rng)).collect::<Vec<_>>()
        };
        prop_assert_eq!(draw(), draw());
    }
}

//! `key.toml`: round-trip, versioning and validation with errors that name the key.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use yardline_keying::{
    DEFAULT_LUT_SIZE, EdgeFilter, Exclusion, KEY_FILE_VERSION, KeyConfig, KeyError, PaintKey,
    Palette, Region, Sample, SampleKind,
};

fn sample(kind: SampleKind, label: &str, mean: [f64; 3], tolerance: f64) -> Sample {
    Sample {
        kind,
        label: label.into(),
        mean,
        // Awkward values on purpose: they must survive the text round-trip bit for bit.
        covariance: [
            [42.123_456_789, -11.7, -7.8],
            [-11.7, 12.1, 2.8],
            [-7.8, 2.8, 8.900_000_000_1],
        ],
        tolerance,
    }
}

fn config() -> KeyConfig {
    let mut c = KeyConfig::new(Palette {
        softness: 1.25,
        samples: vec![
            sample(
                SampleKind::Inclusion,
                "grass sun",
                [104.7, 102.0, 106.6],
                3.5,
            ),
            sample(SampleKind::Inclusion, "", [56.0, 119.2, 116.7], 4.0),
            sample(
                SampleKind::Exclusion,
                "home jersey \"navy\"",
                [47.6, 147.0, 122.8],
                3.0,
            ),
        ],
    });
    c.lut_size = 65;
    c.min_filter_radius = 2;
    c.edge_filter = EdgeFilter::Unmix;
    c.regions.push(Region {
        name: "midfield mud".into(),
        rect: [-9.144, -24.384, 9.144, 24.384],
        palette: Palette {
            softness: 0.0,
            samples: vec![sample(
                SampleKind::Inclusion,
                "mud",
                [80.0, 120.0, 140.0],
                3.5,
            )],
        },
    });
    c.paint = Some(PaintKey {
        margin_m: 0.07,
        palette: Palette {
            softness: 1.0,
            samples: vec![sample(
                SampleKind::Inclusion,
                "paint",
                [201.0, 127.0, 129.0],
                3.5,
            )],
        },
    });
    c
}

#[test]
fn toml_round_trip_is_exact() {
    let c = config();
    let text = c.to_toml_string().unwrap();
    assert!(text.contains("version = 1"), "{text}");
    let back = KeyConfig::from_toml_str(&text).unwrap();
    assert_eq!(back, c);
    // And through a file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.toml");
    c.save(&path).unwrap();
    assert_eq!(KeyConfig::load(&path).unwrap(), c);
}

#[test]
fn defaults_fill_optional_keys() {
    let text = r"
version = 1
[palette]
";
    let c = KeyConfig::from_toml_str(text).unwrap();
    assert_eq!(c.lut_size, DEFAULT_LUT_SIZE);
    assert_eq!(c.min_filter_radius, 1);
    assert_eq!(c.edge_filter, EdgeFilter::Min);
    // The default is left out of a written file (builds that do not know the key read it).
    assert!(!c.to_toml_string().unwrap().contains("edge_filter"));
    assert!((c.palette.softness - 1.0).abs() < 1e-12);
    assert!(c.palette.samples.is_empty() && c.regions.is_empty());
}

/// Replaces the first occurrence of `from` in the valid file's text and parses it.
fn parse_with(from: &str, to: &str) -> KeyError {
    let text = config().to_toml_string().unwrap();
    assert!(text.contains(from), "{from:?} not in\n{text}");
    KeyConfig::from_toml_str(&text.replacen(from, to, 1)).unwrap_err()
}

fn invalid_key(e: &KeyError) -> &str {
    match e {
        KeyError::Invalid { key, .. } => key,
        other => panic!("expected an invalid-key error, got {other}"),
    }
}

#[test]
fn validation_errors_name_the_key() {
    let e = parse_with("tolerance = 3.0", "tolerance = -1.0");
    assert_eq!(invalid_key(&e), "palette.samples[2].tolerance");
    assert!(e.to_string().contains("negative"), "{e}");

    let e = parse_with("tolerance = 3.5", "tolerance = nan");
    assert_eq!(invalid_key(&e), "palette.samples[0].tolerance");
    assert!(e.to_string().contains("not finite"), "{e}");

    let e = parse_with("softness = 1.25", "softness = inf");
    assert_eq!(invalid_key(&e), "palette.softness");

    let e = parse_with("mean = [104.7", "mean = [nan");
    assert_eq!(invalid_key(&e), "palette.samples[0].mean");

    // A covariance that is symmetric but not positive definite.
    let e = parse_with("[42.123456789, -11.7, -7.8]", "[-42.0, -11.7, -7.8]");
    assert_eq!(invalid_key(&e), "palette.samples[0].covariance");
    assert!(e.to_string().contains("positive definite"), "{e}");

    let e = parse_with("[42.123456789, -11.7, -7.8]", "[42.0, -11.7, 7.8]");
    assert_eq!(invalid_key(&e), "palette.samples[0].covariance");
    assert!(e.to_string().contains("symmetric"), "{e}");

    let e = parse_with("rect = [-9.144", "rect = [19.144");
    assert_eq!(invalid_key(&e), "regions[0].rect");

    let e = parse_with("margin_m = 0.07", "margin_m = 3.0");
    assert_eq!(invalid_key(&e), "paint.margin_m");

    let e = parse_with("lut_size = 65", "lut_size = 1");
    assert_eq!(invalid_key(&e), "lut_size");

    let e = parse_with("min_filter_radius = 2", "min_filter_radius = 40");
    assert_eq!(invalid_key(&e), "min_filter_radius");

    // An edge filter this build does not know: the parser names it and the accepted ones.
    let e = parse_with("edge_filter = \"unmix\"", "edge_filter = \"blur\"");
    let text = e.to_string();
    assert!(text.contains("blur") && text.contains("unmix"), "{e}");

    // Inside a region's palette the key says so.
    let text = config().to_toml_string().unwrap();
    let idx = text.find("[regions.palette]").unwrap();
    let (head, tail) = text.split_at(idx);
    let bad = format!(
        "{head}{}",
        tail.replacen("tolerance = 3.5", "tolerance = -2.0", 1)
    );
    let e = KeyConfig::from_toml_str(&bad).unwrap_err();
    assert_eq!(invalid_key(&e), "regions[0].palette.samples[0].tolerance");
}

#[test]
fn versions_are_checked_first() {
    let e = parse_with("version = 1", "version = 2");
    assert!(
        matches!(
            e,
            KeyError::UnsupportedVersion {
                found: 2,
                supported: KEY_FILE_VERSION
            }
        ),
        "{e}"
    );
    // A newer file with keys this build does not know still reports the version.
    let e = KeyConfig::from_toml_str("version = 7\nfuture_key = true\n").unwrap_err();
    assert!(
        matches!(e, KeyError::UnsupportedVersion { found: 7, .. }),
        "{e}"
    );
    let e = KeyConfig::from_toml_str("[palette]\n").unwrap_err();
    assert_eq!(invalid_key(&e), "version");
    let e = KeyConfig::from_toml_str("version = \"one\"\n[palette]\n").unwrap_err();
    assert_eq!(invalid_key(&e), "version");
}

#[test]
fn malformed_text_and_unknown_keys_are_parse_errors() {
    let e = KeyConfig::from_toml_str("version = 1\n[palette\n").unwrap_err();
    assert!(matches!(e, KeyError::Parse(_)), "{e}");
    let e = parse_with("softness = 1.25", "softnes = 1.25");
    assert!(matches!(e, KeyError::Parse(_)), "{e}");
    assert!(e.to_string().contains("softnes"), "{e}");
    let e = parse_with("kind = \"exclusion\"", "kind = \"maybe\"");
    assert!(matches!(e, KeyError::Parse(_)), "{e}");
    let missing = KeyConfig::load("/nonexistent/key.toml").unwrap_err();
    assert!(matches!(missing, KeyError::Io { .. }), "{missing}");
}

#[test]
fn an_invalid_key_is_never_written() {
    let mut c = config();
    c.palette.samples[1].tolerance = f64::NAN;
    assert!(c.to_toml_string().is_err());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.toml");
    assert!(c.save(&path).is_err());
    assert!(!path.exists());
}

#[test]
fn exclusions_round_trip_and_a_malformed_one_names_its_line() {
    let mut key = config();
    key.exclusions = vec![
        Exclusion::rect("score bug", [0.22, 0.845, 0.78, 0.925]),
        Exclusion::polygon(
            "bug",
            vec![[0.86, 0.04], [1.2, 0.04], [1.2, 0.11], [0.86, 0.11]],
        ),
    ];
    let text = key.to_toml_string().unwrap();
    assert!(text.contains("[[exclusion]]"), "{text}");
    assert_eq!(KeyConfig::from_toml_str(&text).unwrap(), key);
    // Outside the frame is allowed (clipped when drawn).
    assert!(key.exclusions[1].contains(1.1, 0.1));

    let base = config().to_toml_string().unwrap();
    for (table, why) in [
        ("polygon = [[0.1, 0.1], [0.2, 0.1]]", "at least 3 points"),
        ("rect = [0.1, 0.1, nan, 0.2]", "not finite"),
        ("rect = [0.5, 0.1, 0.2, 0.2]", "empty"),
        ("name = \"nothing\"", "needs a `rect` or a `polygon`"),
        (
            "rect = [0.1, 0.1, 0.2, 0.2]\npolygon = [[0, 0], [1, 0], [1, 1]]",
            "not both",
        ),
    ] {
        let text = format!("{base}\n[[exclusion]]\n{table}\n");
        let line = text.lines().position(|l| l == "[[exclusion]]").unwrap() + 1;
        let err = KeyConfig::from_toml_str(&text).unwrap_err().to_string();
        assert!(err.contains(why), "{table}: {err}");
        assert!(
            err.contains(&format!("line {line}")) || err.contains(&format!("line {}", line + 1)),
            "{table}: the error does not name line {line}: {err}"
        );
    }
}

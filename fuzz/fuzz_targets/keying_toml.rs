//! `key.toml` loading: any text gives a key configuration or an error; a loaded one compiles
//! into a key or gives an error, and the compiled key gives alphas in 0..=1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use yardline_engine::key::FieldKey;
use yardline_keying::KeyConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = KeyConfig::from_toml_str(text) else {
        return;
    };
    let saved = config.to_toml_string().expect("a loaded key saves");
    KeyConfig::from_toml_str(&saved).expect("a saved key loads");
    if let Ok(key) = FieldKey::compile(&config) {
        use yardline_engine::render::KeyModel;
        for ycbcr in [
            [0.0, 0.0, 0.0],
            [0.5, 0.5, 0.5],
            [1.0, 1.0, 1.0],
            [0.3, 0.4, 0.45],
        ] {
            let a = key.key(ycbcr, [0.0, 0.0]);
            assert!((0.0..=1.0).contains(&a), "alpha {a}");
        }
    }
});

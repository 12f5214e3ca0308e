//! Every shader parses and validates with naga (the compiler wgpu uses).

use naga::valid::{Capabilities, ValidationFlags, Validator};

#[test]
fn every_shader_validates() {
    assert!(!yardline_shaders::ALL.is_empty());
    for (name, source) in yardline_shaders::ALL {
        let module = naga::front::wgsl::parse_str(source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        Validator::new(ValidationFlags::all(), Capabilities::default())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

#[test]
fn composite_has_its_entry_points() {
    let module = naga::front::wgsl::parse_str(yardline_shaders::COMPOSITE_WGSL).unwrap();
    let names: Vec<_> = module
        .entry_points
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert!(
        names.contains(&"vs_main") && names.contains(&"fs_main"),
        "{names:?}"
    );
}

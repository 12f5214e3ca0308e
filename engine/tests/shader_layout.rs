//! The Rust mirrors of `composite.wgsl`'s structs (bytemuck, `#[repr(C)]`) have the shader's
//! size and member offsets, as naga (wgpu's shader compiler) lays the WGSL structs out.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::mem::{offset_of, size_of};

use naga::TypeInner;
use yardline_engine::render::MAX_TILE_REGIONS;
use yardline_engine::render::gpu::{Globals, REGIONS_PER_ROW, VERTEX_ATTRIBUTES, VertexGpu};

/// Size and (member name, offset) list of WGSL struct `name`.
fn wgsl_layout(module: &naga::Module, name: &str) -> (usize, Vec<(String, usize)>) {
    let ty = module
        .types
        .iter()
        .map(|(_, ty)| ty)
        .find(|ty| ty.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("composite.wgsl has no struct {name}"));
    let TypeInner::Struct { members, span } = &ty.inner else {
        panic!("{name} is not a struct");
    };
    let members = members
        .iter()
        .map(|m| (m.name.clone().unwrap_or_default(), m.offset as usize))
        .collect();
    (*span as usize, members)
}

fn check(module: &naga::Module, name: &str, size: usize, fields: &[(&str, usize)]) {
    let (span, members) = wgsl_layout(module, name);
    assert_eq!(span, size, "{name}: WGSL size {span}, Rust size {size}");
    let rust: Vec<(String, usize)> = fields.iter().map(|&(f, o)| (f.to_owned(), o)).collect();
    assert_eq!(
        members, rust,
        "{name}: WGSL members vs the Rust mirror's offsets"
    );
}

#[test]
fn composite_structs_match_their_rust_mirrors() {
    let module = naga::front::wgsl::parse_str(yardline_shaders::COMPOSITE_WGSL).unwrap();
    check(
        &module,
        "Globals",
        size_of::<Globals>(),
        &[
            ("atlas_size", offset_of!(Globals, atlas_size)),
            ("lut_texel", offset_of!(Globals, lut_texel)),
            ("lut_size", offset_of!(Globals, lut_size)),
            ("lut_columns", offset_of!(Globals, lut_columns)),
        ],
    );
    // Vertex input: the attribute at each location reads the field the shader names there.
    let (_, members) = wgsl_layout(&module, "VertexIn");
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "atlas", "depth", "across", "along", "field", "colour", "strip", "regions"
        ]
    );
    let offsets = [
        offset_of!(VertexGpu, atlas),
        offset_of!(VertexGpu, depth),
        offset_of!(VertexGpu, across),
        offset_of!(VertexGpu, along),
        offset_of!(VertexGpu, field),
        offset_of!(VertexGpu, colour),
        offset_of!(VertexGpu, strip),
        offset_of!(VertexGpu, regions),
    ];
    for (location, (attribute, offset)) in VERTEX_ATTRIBUTES.iter().zip(offsets).enumerate() {
        assert_eq!(attribute.shader_location as usize, location);
        assert_eq!(attribute.offset as usize, offset, "location {location}");
    }
    assert_eq!(VERTEX_ATTRIBUTES.len(), offsets.len());
}

/// Value of WGSL `const` `name`, or the default of `override` `name` (an unsigned integer).
fn wgsl_const(module: &naga::Module, name: &str) -> u64 {
    let init = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))
        .map(|(_, c)| c.init)
        .or_else(|| {
            module
                .overrides
                .iter()
                .find(|(_, o)| o.name.as_deref() == Some(name))
                .and_then(|(_, o)| o.init)
        })
        .unwrap_or_else(|| panic!("composite.wgsl has no constant {name}"));
    match module.global_expressions[init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => u64::from(v),
        ref e => panic!("{name}: not a u32 literal: {e:?}"),
    }
}

#[test]
fn composite_constants_match_the_engine() {
    let module = naga::front::wgsl::parse_str(yardline_shaders::COMPOSITE_WGSL).unwrap();
    assert_eq!(
        wgsl_const(&module, "MAX_TILE_REGIONS"),
        MAX_TILE_REGIONS as u64
    );
    assert_eq!(
        wgsl_const(&module, "REGIONS_PER_ROW"),
        u64::from(REGIONS_PER_ROW)
    );
}

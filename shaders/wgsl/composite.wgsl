// Composite pass: draws the strip triangles of every line into the tile atlas.
//
// The atlas holds each touched frame tile plus a halo border, in the frame's own colour space
// (R, G, B for RGB formats, Y, Cb, Cr for YUV formats), normalised 0..1. One instance per tile:
// the vertex shader moves frame pixels into that tile's atlas cell; the scissor keeps each draw
// inside its cell. The fragment shader computes the same analytic coverage as the CPU
// compositor (engine/src/render/raster.rs): keep the two in step.
//
// Pixel convention: pixel centres at integer frame coordinates, so frame pixel p lies at
// framebuffer coordinate p + 0.5.

// Keep in sync with `Globals` in engine/src/render/gpu.rs.
struct Globals {
    atlas_size: vec2<f32>,
    halo: f32,
    lut_size: f32,
    key_radius: i32,
    is_rgb: u32,
    region_count: u32,
    lut_count: u32,
};

// Keep in sync with `TileGpu` in engine/src/render/gpu.rs.
struct Tile {
    // Frame pixel of the tile's top-left interior pixel.
    frame_origin: vec2<f32>,
    // Atlas pixel of the cell's top-left halo pixel.
    cell_origin: vec2<f32>,
    // The tile's key regions: first entry in `regions` and count.
    regions: vec2<u32>,
};

// Keep in sync with `LineGpu` in engine/src/render/gpu.rs.
struct Line {
    // Colour in the frame's colour space, 0..1.
    colour: vec4<f32>,
    // Field (x, y) of the strip start and its unit direction.
    origin: vec2<f32>,
    direction: vec2<f32>,
    half_width: f32,
    length: f32,
    opacity: f32,
    _pad: f32,
};

// Keep in sync with `RegionGpu` in engine/src/render/gpu.rs: field rectangle of a key region
// and the palette (LUT block) inside it.
struct Region {
    rect: vec4<f32>,
    lut: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
};

@group(0) @binding(0) var<uniform> globals: Globals;
@group(0) @binding(1) var<storage, read> tiles: array<Tile>;
@group(0) @binding(2) var<storage, read> lines: array<Line>;
@group(0) @binding(3) var<storage, read> regions: array<Region>;
@group(0) @binding(4) var source: texture_2d<f32>;
@group(0) @binding(5) var key_lut: texture_3d<f32>;
@group(0) @binding(6) var lut_sampler: sampler;

struct VertexIn {
    @location(0) pixel: vec2<f32>,
    @location(1) depth: f32,
    @location(2) across: f32,
    @location(3) along: f32,
    @location(4) line: u32,
};

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) across: f32,
    @location(1) along: f32,
    @location(2) @interpolate(flat) line: u32,
    @location(3) @interpolate(flat) tile: u32,
};

@vertex
fn vs_main(v: VertexIn, @builtin(instance_index) tile_index: u32) -> VertexOut {
    let tile = tiles[tile_index];
    let atlas = v.pixel - tile.frame_origin + tile.cell_origin + vec2<f32>(globals.halo) + 0.5;
    let ndc = vec2<f32>(
        atlas.x / globals.atlas_size.x * 2.0 - 1.0,
        1.0 - atlas.y / globals.atlas_size.y * 2.0,
    );
    var out: VertexOut;
    // w = depth gives perspective-correct interpolation of the field-space offsets.
    out.position = vec4<f32>(ndc * v.depth, 0.0, v.depth);
    out.across = v.across;
    out.along = v.along;
    out.line = v.line;
    out.tile = tile_index;
    return out;
}

// Box-filtered 1-D coverage of a pixel by a band (distances in pixels).
fn box_coverage(s: f32, half: f32) -> f32 {
    return clamp(min(s + 0.5, half) - max(s - 0.5, -half), 0.0, 1.0);
}

// BT.709 limited-range YCbCr code values from full-range RGB code values.
fn rgb_to_ycbcr709(c: vec3<f32>) -> vec3<f32> {
    let y = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    let cb = (c.b - y) / 1.8556;
    let cr = (c.r - y) / 1.5748;
    return vec3<f32>(16.0 + y * (219.0 / 255.0), 128.0 + cb * (224.0 / 255.0), 128.0 + cr * (224.0 / 255.0));
}

// Key LUT lookup: palettes are stacked along z, `lut_size` layers each.
fn raw_key(native: vec3<f32>, lut: u32) -> f32 {
    var ycc = native * 255.0;
    if (globals.is_rgb != 0u) {
        ycc = rgb_to_ycbcr709(ycc);
    }
    let n = globals.lut_size;
    let layers = n * f32(globals.lut_count);
    let t = clamp(ycc / 255.0, vec3<f32>(0.0), vec3<f32>(1.0)) * (n - 1.0) + 0.5;
    let uvw = vec3<f32>(t.x / n, t.y / n, (t.z + f32(lut) * n) / layers);
    return textureSampleLevel(key_lut, lut_sampler, uvw, 0.0).r;
}

// Palette at a field point of tile `tile`: the first of the tile's regions containing it, else
// the default (0).
fn lut_at(p: vec2<f32>, tile: u32) -> u32 {
    let range = tiles[tile].regions;
    for (var i = range.x; i < range.x + range.y; i = i + 1u) {
        let r = regions[i].rect;
        if (p.x >= r.x && p.x <= r.z && p.y >= r.y && p.y <= r.w) {
            return regions[i].lut;
        }
    }
    return 0u;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    // Derivatives first, in uniform control flow.
    let g_across = max(length(vec2<f32>(dpdx(in.across), dpdy(in.across))), 1e-9);
    let g_along = max(length(vec2<f32>(dpdx(in.along), dpdy(in.along))), 1e-9);
    let line = lines[in.line];
    let half_len = 0.5 * line.length;
    let coverage = box_coverage(abs(in.across) / g_across, line.half_width / g_across)
        * box_coverage(abs(in.along - half_len) / g_along, half_len / g_along);
    let opacity = clamp(line.opacity, 0.0, 1.0);
    if (coverage * opacity <= 0.0) {
        // Outside the strip (its anti-aliasing margin): nothing to key.
        return vec4<f32>(line.colour.rgb, 0.0);
    }
    let field = line.origin + line.direction * in.along
        + vec2<f32>(-line.direction.y, line.direction.x) * in.across;
    let lut = lut_at(field, in.tile);
    let centre = vec2<i32>(floor(in.position.xy));
    var key = 1.0;
    for (var dy = -globals.key_radius; dy <= globals.key_radius; dy = dy + 1) {
        for (var dx = -globals.key_radius; dx <= globals.key_radius; dx = dx + 1) {
            let c = textureLoad(source, centre + vec2<i32>(dx, dy), 0).rgb;
            key = min(key, raw_key(c, lut));
        }
    }
    let alpha = coverage * key * opacity;
    return vec4<f32>(line.colour.rgb, alpha);
}

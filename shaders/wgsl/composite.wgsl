// Composite pass: draws the strip pieces of every line into the tile atlas in one draw.
//
// The atlas holds each touched frame tile plus a halo border, in the frame's own colour space
// (R, G, B for RGB formats, Y, Cb, Cr for YUV formats): 8-bit components in an RGBA8 atlas
// (normalised 0..1), the 10-bit formats' codes packed in one 32-bit word a pixel (`PACKED`:
// Y in bits 0..10, Cb in 10..20, Cr in 20..30, the word's four bytes held as the four
// components of an RGBA8 texel, unpacked and packed here;
// keyed and blended at that precision, rounded to 10-bit codes when the blend is written).
// The blend is done here, not by the fixed-function blender (blending a packed word's bytes
// would be meaningless, and a CPU rasteriser such as lavapipe pays for reading back what it
// blends into): the key reads
// the gathered tiles (`source`), the blend the pixel under the line (`under`: the same
// texture for the first line a tile draws, a copy of what the earlier lines drew for a later
// one), and the result is written with blending off. The CPU cuts every
// strip triangle into pieces that lie inside one tile's interior and places their vertices in
// atlas pixels. The fragment shader computes the same analytic coverage and key as the CPU
// compositor (engine/src/render/raster.rs and cpu.rs): keep the two in step.
//
// Pixel convention: pixel centres at integer atlas coordinates, so atlas pixel p lies at
// framebuffer coordinate p + 0.5.

// Radius of the key's neighbourhood (0 = off; at most the atlas halo).
override KEY_RADIUS: i32 = 1;
// True when the neighbourhood unmixes edges (else it takes the minimum).
override UNMIX: bool = false;
// True when the atlas holds R, G, B (else Y, Cb, Cr).
override IS_RGB: bool = true;
// True when the atlas holds packed 10-bit codes (a word's bytes as an RGBA8 texel,
// `fs_packed`); else 8-bit components (`fs_main`).
override PACKED: bool = false;
// An atlas component (code / largest code) on the 8-bit code scale the key LUT is indexed on:
// 255 for an 8-bit atlas, 1023 / 4 for a 10-bit one (a 10-bit code `c` reads as `c / 4`, as
// the CPU keys it).
override CODE_SCALE: f32 = 255.0;

// Key regions tested per pixel: at least as many as any tile of the frame lists, at most
// engine/src/render/mod.rs `MAX_TILE_REGIONS` (the default).
override MAX_TILE_REGIONS: u32 = 8u;

// Keep in sync with `Globals` in engine/src/render/gpu/mod.rs.
struct Globals {
    atlas_size: vec2<f32>,
    // One over the key LUT texture's size (texels).
    lut_texel: vec2<f32>,
    lut_size: f32,
    // Cr slices per row of the key LUT texture.
    lut_columns: u32,
};

// A neighbour keyed below this is a player's colour (set from keying's `UNMIX_FOREGROUND_KEY`).
override UNMIX_FOREGROUND_KEY: f32 = 0.25;

@group(0) @binding(0) var<uniform> globals: Globals;
@group(0) @binding(2) var source: texture_2d<f32>;
// Key LUTs as (Y, Cb) slices, one per palette and Cr node, `lut_columns` per row; a texel holds
// the values at its Cr node (red) and the next (green).
@group(0) @binding(3) var key_lut: texture_2d<f32>;
@group(0) @binding(4) var lut_sampler: sampler;
// Key regions, two texels each: the field rectangle (x0, y0, x1, y1), then the palette in x;
// `REGIONS_PER_ROW` regions per texture row.
@group(0) @binding(5) var region_table: texture_2d<f32>;
// What the line is blended over: `source` itself for the first line a tile draws, the atlas as
// the earlier lines left it for a later one (engine/src/render/gpu/frame.rs, draw levels).
@group(0) @binding(6) var under: texture_2d<f32>;

// Mask of a 10-bit code.
const CODE: u32 = 0x3ffu;

// The 10-bit codes of a packed atlas word.
fn unpack_codes(word: u32) -> vec3<f32> {
    return vec3<f32>(vec3<u32>(word, word >> 10u, word >> 20u) & vec3<u32>(CODE));
}

// The packed atlas word a texel holds: its four bytes, R the lowest (exact: a byte read as
// unorm and scaled back by `pack4x8unorm` is the byte).
fn word_of(texel: vec4<f32>) -> u32 {
    return pack4x8unorm(texel);
}

// The atlas pixel's components, each its code over the largest code (0..1).
fn atlas_at(at: vec2<i32>) -> vec3<f32> {
    if (PACKED) {
        return unpack_codes(word_of(textureLoad(source, at, 0))) * (1.0 / 1023.0);
    }
    return textureLoad(source, at, 0).rgb;
}

// Keep in sync with `REGIONS_PER_ROW` in engine/src/render/gpu/mod.rs.
const REGIONS_PER_ROW: u32 = 256u;

struct VertexIn {
    // Atlas pixel position.
    @location(0) atlas: vec2<f32>,
    @location(1) depth: f32,
    @location(2) across: f32,
    @location(3) along: f32,
    // Field position (x, y metres).
    @location(4) field: vec2<f32>,
    // The line's colour in the frame's colour space (0..1).
    @location(5) colour: vec4<f32>,
    // The line's half painted width, painted length (metres) and opacity (0..1).
    @location(6) strip: vec3<f32>,
    // The tile's key regions: first entry of the region table and count.
    @location(7) regions: vec2<u32>,
};

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) across: f32,
    @location(1) along: f32,
    // The line's look as flat values: they cost a fragment nothing (a storage buffer read per
    // fragment is a gather on a CPU rasteriser).
    @location(2) @interpolate(flat) colour: vec4<f32>,
    @location(3) @interpolate(flat) strip: vec3<f32>,
    // The tile's key regions, slot by slot (see `region_place`): the field position in each
    // region's own frame, (0, 0) at its centre and +-1 on its sides, two slots per vector.
    // Affine in the field position, so the rasteriser interpolates them as it does the field
    // position; slots past the tile's list lie outside.
    @location(4) region_01: vec4<f32>,
    @location(5) region_23: vec4<f32>,
    @location(6) region_45: vec4<f32>,
    @location(7) region_67: vec4<f32>,
    // Each slot's palette (LUT index).
    @location(8) @interpolate(flat) palettes_0123: vec4<u32>,
    @location(9) @interpolate(flat) palettes_4567: vec4<u32>,
};

@vertex
fn vs_main(v: VertexIn) -> VertexOut {
    let p = v.atlas + 0.5;
    let ndc = vec2<f32>(
        p.x / globals.atlas_size.x * 2.0 - 1.0,
        1.0 - p.y / globals.atlas_size.y * 2.0,
    );
    var out: VertexOut;
    // w = depth gives perspective-correct interpolation of the field-space offsets.
    out.position = vec4<f32>(ndc * v.depth, 0.0, v.depth);
    out.across = v.across;
    out.along = v.along;
    out.colour = v.colour;
    out.strip = v.strip;
    var place: array<vec2<f32>, 8>;
    var palette: array<u32, 8>;
    for (var k = 0u; k < 8u; k = k + 1u) {
        place[k] = vec2<f32>(2.0);
        palette[k] = 0u;
        if (k < min(v.regions.y, MAX_TILE_REGIONS)) {
            let i = v.regions.x + k;
            let r = textureLoad(region_table, table_texel(i, 0u), 0);
            place[k] = region_place(v.field, r);
            palette[k] = u32(textureLoad(region_table, table_texel(i, 1u), 0).x);
        }
    }
    out.region_01 = vec4<f32>(place[0], place[1]);
    out.region_23 = vec4<f32>(place[2], place[3]);
    out.region_45 = vec4<f32>(place[4], place[5]);
    out.region_67 = vec4<f32>(place[6], place[7]);
    out.palettes_0123 = vec4<u32>(palette[0], palette[1], palette[2], palette[3]);
    out.palettes_4567 = vec4<u32>(palette[4], palette[5], palette[6], palette[7]);
    return out;
}

// Field point `p` in the frame of rectangle `r` (x0, y0, x1, y1): inside where both
// coordinates lie within +-1.
fn region_place(p: vec2<f32>, r: vec4<f32>) -> vec2<f32> {
    let centre = 0.5 * (r.xy + r.zw);
    let half = max(0.5 * (r.zw - r.xy), vec2<f32>(1e-6));
    return (p - centre) / half;
}

// The atlas pixel's colour as Y, Cb, Cr code values.
fn ycbcr_at(at: vec2<i32>) -> vec3<f32> {
    let c = atlas_at(at) * CODE_SCALE;
    if (IS_RGB) {
        return rgb_to_ycbcr709(c);
    }
    return c;
}

// Edge unmixing at atlas pixel `centre` of raw key `own` (keying/src/config.rs `unmix_key`, the
// CPU compositor's `Unmix::key`): the lowest- and highest-keyed of its neighbours (first in row
// order on a tie, itself left out) give the colours of the player and the grass; its colour
// projected on the segment between them gives the player's share, and the key is at most the
// rest.
fn unmixed_key(centre: vec2<i32>, lut: u32, own: f32) -> f32 {
    var lo = 2.0;
    var hi = -1.0;
    var lo_at = centre;
    var hi_at = centre;
    for (var dy = -KEY_RADIUS; dy <= KEY_RADIUS; dy = dy + 1) {
        for (var dx = -KEY_RADIUS; dx <= KEY_RADIUS; dx = dx + 1) {
            if (dx == 0 && dy == 0) {
                continue;
            }
            let at = centre + vec2<i32>(dx, dy);
            let k = raw_key(at, lut);
            if (k < lo) {
                lo = k;
                lo_at = at;
            }
            if (k > hi) {
                hi = k;
                hi_at = at;
            }
        }
    }
    let bg = ycbcr_at(hi_at);
    let d = ycbcr_at(lo_at) - bg;
    let len2 = dot(d, d);
    if (len2 < 1.0) {
        return own;
    }
    let share = clamp(dot(ycbcr_at(centre) - bg, d) / len2, 0.0, 1.0);
    return min(own, 1.0 - share);
}

// Box-filtered 1-D coverage of a pixel by a band (distances in pixels).
fn box_coverage(s: f32, half: f32) -> f32 {
    return clamp(min(s + 0.5, half) - max(s - 0.5, -half), 0.0, 1.0);
}

// BT.709 limited-range YCbCr code values from full-range RGB code values.
fn rgb_to_ycbcr709(c: vec3<f32>) -> vec3<f32> {
    let y = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
    let cb = (c.b - y) * (1.0 / 1.8556);
    let cr = (c.r - y) * (1.0 / 1.5748);
    return vec3<f32>(16.0 + y * (219.0 / 255.0), 128.0 + cb * (224.0 / 255.0), 128.0 + cr * (224.0 / 255.0));
}

// Key LUT lookup of atlas pixel `at` with palette `lut`: one bilinear sample in (Y, Cb) of the
// slice at the lower Cr node gives both Cr sides of the cell, mixed by the Cr fraction.
fn raw_key(at: vec2<i32>, lut: u32) -> f32 {
    var ycc = atlas_at(at) * CODE_SCALE;
    if (IS_RGB) {
        ycc = rgb_to_ycbcr709(ycc);
    }
    let n = globals.lut_size;
    let p = clamp(ycc * (1.0 / 255.0), vec3<f32>(0.0), vec3<f32>(1.0)) * (n - 1.0);
    let node = min(floor(p.z), n - 2.0);
    // The slice's row and column in float: small integers, exact, where an integer division
    // by a uniform is a division per lane on a CPU rasteriser.
    let columns = f32(globals.lut_columns);
    let slice = node + f32(lut) * n;
    let row = floor((slice + 0.5) * (1.0 / columns));
    let origin = vec2<f32>(slice - row * columns, row) * n;
    let s = textureSampleLevel(key_lut, lut_sampler, (origin + p.xy + 0.5) * globals.lut_texel, 0.0);
    return mix(s.r, s.g, p.z - node);
}

// Bit k set when region slot k contains the pixel's field point. A fixed number of unrolled
// steps reading only varyings: a value the pixels of a quad exchange must not depend on
// branches or storage reads, which helper pixels (outside the piece) may skip.
fn region_mask(in: VertexOut) -> u32 {
    let places = array<vec4<f32>, 4>(in.region_01, in.region_23, in.region_45, in.region_67);
    var mask = 0u;
    for (var k = 0u; k < MAX_TILE_REGIONS; k = k + 1u) {
        let pair = places[k / 2u];
        let place = select(pair.xy, pair.zw, (k & 1u) == 1u);
        mask = mask | select(0u, 1u << k, all(abs(place) <= vec2<f32>(1.0)));
    }
    return mask;
}

// The palette of region slot `k` (0 past the last slot).
fn slot_palette(in: VertexOut, k: u32) -> u32 {
    let palettes = array<u32, 8>(
        in.palettes_0123.x, in.palettes_0123.y, in.palettes_0123.z, in.palettes_0123.w,
        in.palettes_4567.x, in.palettes_4567.y, in.palettes_4567.z, in.palettes_4567.w,
    );
    var palette = 0u;
    for (var i = 0u; i < MAX_TILE_REGIONS; i = i + 1u) {
        palette = select(palette, palettes[i], i == k);
    }
    return palette;
}

// Texel `half` (0: rectangle, 1: palette) of entry `i` of the region table.
fn table_texel(i: u32, half: u32) -> vec2<i32> {
    return vec2<i32>(vec2<u32>(2u * (i % REGIONS_PER_ROW) + half, i / REGIONS_PER_ROW));
}

// The value `v` of the horizontal (`side.x`) or vertical (`side.y`) neighbour in this 2x2 quad,
// through fine derivatives: `side` is -1 on the quad's left column / top row, +1 on the other.
fn from_horizontal(v: f32, side: f32) -> f32 {
    return v - side * dpdxFine(v);
}

fn from_vertical(v: f32, side: f32) -> f32 {
    return v - side * dpdyFine(v);
}

// The line's alpha at this fragment: coverage x key x opacity.
fn line_alpha(in: VertexOut) -> f32 {
    // Everything that takes derivatives runs first, in uniform control flow: the four pixels
    // of a quad (helpers included) all get here.
    let g_across = max(length(vec2<f32>(dpdx(in.across), dpdy(in.across))), 1e-9);
    let g_along = max(length(vec2<f32>(dpdx(in.along), dpdy(in.along))), 1e-9);

    let centre = vec2<i32>(floor(in.position.xy));
    let side = vec2<i32>(select(1, -1, (centre.x & 1) == 0), select(1, -1, (centre.y & 1) == 0));
    let s = vec2<f32>(side);

    // Palette: that of the first region containing the centre of any pixel of the quad (the
    // 2x2 pixel block), so the whole quad shares it. Region masks are small integers, exact
    // through the derivative exchange.
    let own_mask = f32(region_mask(in));
    let masks = vec4<f32>(
        own_mask,
        from_horizontal(own_mask, s.x),
        from_vertical(own_mask, s.y),
        from_vertical(from_horizontal(own_mask, s.x), s.y),
    );
    let m = vec4<u32>(masks + 0.5);
    let mask = m.x | m.y | m.z | m.w;
    let lut = select(0u, slot_palette(in, firstTrailingBit(mask)), mask != 0u);

    // Key: the minimum over the (2r+1)^2 neighbourhood of the raw keys, every neighbour keyed
    // with the quad's palette. The quad's four neighbourhoods together span a (2r+2)^2 block;
    // each pixel keys the (r+1)^2 corner of it on its own side (outward from the quad's
    // centre) and takes the other three corners' relevant minima from its neighbours, so a
    // pixel costs (r+1)^2 lookups instead of (2r+1)^2.
    // Minima over the own corner: all of it, without its outer column (what the horizontal
    // neighbour needs), without its outer row (the vertical neighbour) and without both (the
    // diagonal one).
    var own = 1.0;
    var centre_key = 1.0;
    var for_h = 1.0;
    var for_v = 1.0;
    var for_d = 1.0;
    for (var i = 0; i <= KEY_RADIUS; i = i + 1) {
        for (var j = 0; j <= KEY_RADIUS; j = j + 1) {
            let k = raw_key(centre + side * vec2<i32>(j, i), lut);
            if (i == 0 && j == 0) {
                centre_key = k;
            }
            own = min(own, k);
            if (j < KEY_RADIUS) {
                for_h = min(for_h, k);
            }
            if (i < KEY_RADIUS) {
                for_v = min(for_v, k);
            }
            if (i < KEY_RADIUS && j < KEY_RADIUS) {
                for_d = min(for_d, k);
            }
        }
    }
    let h = from_horizontal(for_h, s.x);
    let v = from_vertical(for_v, s.y);
    let d = from_vertical(from_horizontal(for_d, s.x), s.y);
    var key = min(min(own, h), min(v, d));
    // Unmixing: the pixel's own key, lowered beside a player (the neighbourhood's minimum
    // tells where one is near).
    if (UNMIX) {
        if (centre_key >= UNMIX_FOREGROUND_KEY && key < UNMIX_FOREGROUND_KEY) {
            key = unmixed_key(centre, lut, centre_key);
        } else {
            key = centre_key;
        }
    }

    let half_len = 0.5 * in.strip.y;
    let coverage = box_coverage(abs(in.across) / g_across, in.strip.x / g_across)
        * box_coverage(abs(in.along - half_len) / g_along, half_len / g_along);
    return coverage * key * in.strip.z;
}

// An RGBA8 atlas: out = in + (colour - in) * alpha, as the CPU blends, rounded to 8 bits as it
// is written; the atlas's own alpha is kept.
@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let alpha = line_alpha(in);
    let base = textureLoad(under, vec2<i32>(floor(in.position.xy)), 0);
    return vec4<f32>(base.rgb + (in.colour.rgb - base.rgb) * alpha, base.a);
}

// A packed 10-bit atlas: the same blend in 10-bit codes, rounded half up as the CPU rounds
// (`round(v + (c - v) * alpha)`), packed back with the word's top bits kept.
@fragment
fn fs_packed(in: VertexOut) -> @location(0) vec4<f32> {
    let alpha = line_alpha(in);
    let word = word_of(textureLoad(under, vec2<i32>(floor(in.position.xy)), 0));
    let base = unpack_codes(word);
    let colour = in.colour.rgb * 1023.0;
    let v = vec3<u32>(clamp(floor(base + (colour - base) * alpha + 0.5), vec3<f32>(0.0), vec3<f32>(1023.0)));
    return unpack4x8unorm((word & ~0x3fffffffu) | v.x | (v.y << 10u) | (v.z << 20u));
}

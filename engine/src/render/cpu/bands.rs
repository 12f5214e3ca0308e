//! The frame handed out a row of tiles at a time for blending: each row of tiles with the
//! frame rows it covers (of the RGB plane, or of every YUV plane) and its tiles' scratch, as
//! disjoint pieces that rows of tiles blend at once.

use yardline_frame::{FrameLayout, FrameMut, Sample, SampleStorage, read_sample, write_sample};

use super::TileScratch;
use crate::render::tiles::TILE;

/// A row of tiles: its tile row, the tiles and their scratch.
type TileRow<'a> = (u32, &'a [(u32, u32)], &'a mut [TileScratch]);

/// A plan's tiles (row-major) and their scratch, handed out a row of tiles at a time.
struct TileRowSplit<'a> {
    tiles: &'a [(u32, u32)],
    scratch: &'a mut [TileScratch],
    /// Rows of tiles left.
    left: usize,
}

impl<'a> TileRowSplit<'a> {
    fn new(tiles: &'a [(u32, u32)], scratch: &'a mut [TileScratch]) -> Self {
        let left = tiles.chunk_by(|a, b| a.1 == b.1).count();
        Self {
            tiles,
            scratch,
            left,
        }
    }

    /// The next row of tiles: its tile row, tiles and their scratch.
    fn next_row(&mut self) -> Option<TileRow<'a>> {
        let &(_, ty) = self.tiles.first()?;
        let k = self.tiles.partition_point(|&(_, t)| t <= ty);
        let (tiles, more) = self.tiles.split_at(k);
        self.tiles = more;
        let (scratch, more) = std::mem::take(&mut self.scratch).split_at_mut(k);
        self.scratch = more;
        self.left -= 1;
        Some((ty, tiles, scratch))
    }

    /// Every tile left, as one piece.
    fn rest(&mut self) -> (&'a [(u32, u32)], &'a mut [TileScratch]) {
        self.left = 0;
        (
            std::mem::take(&mut self.tiles),
            std::mem::take(&mut self.scratch),
        )
    }
}

/// Rows of tiles of a plan with the RGB plane rows each covers and its tiles' scratch:
/// disjoint pieces, blended at once.
pub(super) struct TileRows<'a> {
    plane: PlaneRows<'a>,
    split: TileRowSplit<'a>,
}

impl<'a> TileRows<'a> {
    /// The rows of `tiles` (row-major) over the RGB-family `frame`, with their scratch.
    pub(super) fn new(
        frame: &'a mut FrameMut<'_>,
        tiles: &'a [(u32, u32)],
        scratch: &'a mut [TileScratch],
    ) -> Self {
        let plane = frame.layout.planes[0];
        Self {
            plane: PlaneRows {
                rest: &mut frame.data[plane.offset..],
                start: plane.offset,
                row: 0,
                stride: plane.stride,
                sub: 1,
            },
            split: TileRowSplit::new(tiles, scratch),
        }
    }
}

impl<'a> Iterator for TileRows<'a> {
    /// The plane rows, the first one's index, the tiles and their scratch.
    type Item = (&'a mut [u8], u32, &'a [(u32, u32)], &'a mut [TileScratch]);

    fn next(&mut self) -> Option<Self::Item> {
        let (ty, tiles, scratch) = self.split.next_row()?;
        let (band, _) = self.plane.take(ty * TILE, (ty + 1) * TILE);
        Some((band, ty * TILE, tiles, scratch))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.split.left, Some(self.split.left))
    }
}

impl ExactSizeIterator for TileRows<'_> {}

/// The rows of each plane of a YUV frame that one row of tiles covers: disjoint pieces of the
/// frame's buffer, each with the buffer index of its first byte.
pub(super) struct YuvBand<'a> {
    parts: [(&'a mut [u8], usize); 3],
}

impl YuvBand<'_> {
    /// The part holding the `len` bytes from buffer index `i`, and `i` within it.
    #[inline]
    fn locate(&self, i: usize, len: usize) -> Option<(usize, usize)> {
        self.parts
            .iter()
            .enumerate()
            .find_map(|(k, (part, start))| {
                let at = i.checked_sub(*start)?;
                (at + len <= part.len()).then_some((k, at))
            })
    }

    /// The code of sample `s` (buffer byte index), if the band holds it.
    #[inline]
    pub(super) fn read(&self, storage: SampleStorage, s: Sample) -> Option<u16> {
        let (k, at) = self.locate(s.byte, storage_bytes(storage))?;
        Some(read_sample(
            storage,
            self.parts[k].0,
            Sample { byte: at, ..s },
        ))
    }

    /// Writes the code of sample `s` (buffer byte index) if the band holds it.
    #[inline]
    pub(super) fn write(&mut self, storage: SampleStorage, s: Sample, code: u16) {
        if let Some((k, at)) = self.locate(s.byte, storage_bytes(storage)) {
            write_sample(storage, self.parts[k].0, Sample { byte: at, ..s }, code);
        }
    }
}

/// Bytes of one stored sample.
#[inline]
fn storage_bytes(storage: SampleStorage) -> usize {
    match storage {
        SampleStorage::U8 => 1,
        SampleStorage::U16 => 2,
        SampleStorage::U32 => 4,
    }
}

/// One plane of a YUV frame, handed out row band by row band down the frame.
struct PlaneRows<'a> {
    /// The plane's bytes from plane row `row` on.
    rest: &'a mut [u8],
    /// Buffer index of `rest[0]`.
    start: usize,
    row: u32,
    /// Bytes per plane row.
    stride: usize,
    /// Frame rows per plane row (2 for 4:2:0 chroma).
    sub: u32,
}

impl<'a> PlaneRows<'a> {
    fn empty() -> Self {
        Self {
            rest: &mut [],
            start: 0,
            row: 0,
            stride: 0,
            sub: 1,
        }
    }

    /// The plane rows holding frame rows `y0..y1` (`y0` at or below the rows handed out so far)
    /// and the buffer index of their first byte.
    fn take(&mut self, y0: u32, y1: u32) -> (&'a mut [u8], usize) {
        let (r0, r1) = (y0 / self.sub, y1.div_ceil(self.sub));
        let rest = std::mem::take(&mut self.rest);
        let skip = (r0.saturating_sub(self.row) as usize * self.stride).min(rest.len());
        let len = (r1.saturating_sub(r0) as usize * self.stride).min(rest.len() - skip);
        let (part, rest) = rest[skip..].split_at_mut(len);
        let start = self.start + skip;
        (self.rest, self.start, self.row) = (rest, start + len, r1.max(self.row));
        (part, start)
    }
}

/// Rows of tiles of a plan (row-major) with the rows of each YUV plane each covers
/// ([`YuvBand`]) and its tiles' scratch: disjoint pieces, blended at once. A layout whose planes
/// are not disjoint row ranges of the buffer gives one band holding the whole buffer.
pub(super) struct YuvTileRows<'a> {
    planes: [PlaneRows<'a>; 3],
    split: TileRowSplit<'a>,
    /// The whole buffer, when the planes cannot be split.
    whole: Option<&'a mut [u8]>,
}

impl<'a> YuvTileRows<'a> {
    pub(super) fn new(
        frame: &'a mut FrameMut<'_>,
        tiles: &'a [(u32, u32)],
        scratch: &'a mut [TileScratch],
    ) -> Self {
        let layout = frame.layout;
        let data: &'a mut [u8] = &mut *frame.data;
        let split = TileRowSplit::new(tiles, scratch);
        match split_planes(layout, data) {
            Ok(planes) => Self {
                planes,
                split,
                whole: None,
            },
            Err(data) => Self {
                planes: std::array::from_fn(|_| PlaneRows::empty()),
                split,
                whole: Some(data),
            },
        }
    }
}

/// The planes of a YUV layout as [`PlaneRows`], or the buffer back when a plane's rows run
/// into the next plane.
fn split_planes<'a>(
    layout: &FrameLayout,
    data: &'a mut [u8],
) -> Result<[PlaneRows<'a>; 3], &'a mut [u8]> {
    let shapes = layout
        .format
        .packed_planes(layout.width as usize, layout.height as usize);
    // (plane, bytes of a row's pixels, rows), in buffer order (no allocation: this runs every
    // frame).
    let mut sorted = [(0, 0, 0); 3];
    let order = &mut sorted[..layout.format.plane_count()];
    for (p, o) in order.iter_mut().enumerate() {
        *o = (p, shapes[p].0, shapes[p].1);
    }
    order.sort_by_key(|&(p, ..)| layout.planes[p].offset);
    let order = &*order;
    // Each plane's bytes end before the next one starts.
    let end = |&(p, row_bytes, rows): &(usize, usize, usize)| {
        let plane = layout.planes[p];
        plane.offset + rows.saturating_sub(1) * plane.stride + row_bytes
    };
    let disjoint = !order.is_empty()
        && order
            .windows(2)
            .all(|pair| end(&pair[0]) <= layout.planes[pair[1].0].offset)
        && order.last().is_some_and(|last| end(last) <= data.len());
    if !disjoint {
        return Err(data);
    }
    let mut planes = std::array::from_fn(|_| PlaneRows::empty());
    let (mut rest, mut at) = (data, 0);
    for (k, &(p, ..)) in order.iter().enumerate() {
        let plane = layout.planes[p];
        let next = order
            .get(k + 1)
            .map_or(at + rest.len(), |&(q, ..)| layout.planes[q].offset);
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(plane.offset - at);
        let (mine, tail) = tail.split_at_mut(next - plane.offset);
        (rest, at) = (tail, next);
        planes[p] = PlaneRows {
            rest: mine,
            start: plane.offset,
            row: 0,
            stride: plane.stride,
            // Chroma planes hold one row per chroma site row.
            sub: if p == 0 {
                1
            } else {
                layout.format.chroma_step().1
            },
        };
    }
    Ok(planes)
}

impl<'a> Iterator for YuvTileRows<'a> {
    /// The band, the tiles and their scratch.
    type Item = (YuvBand<'a>, &'a [(u32, u32)], &'a mut [TileScratch]);

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(data) = self.whole.take() {
            let (tiles, scratch) = self.split.rest();
            let band = YuvBand {
                parts: [(data, 0), (&mut [], 0), (&mut [], 0)],
            };
            return Some((band, tiles, scratch));
        }
        let (ty, tiles, scratch) = self.split.next_row()?;
        let parts = self
            .planes
            .each_mut()
            .map(|p| p.take(ty * TILE, (ty + 1) * TILE));
        Some((YuvBand { parts }, tiles, scratch))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = if self.whole.is_some() {
            1
        } else {
            self.split.left
        };
        (left, Some(left))
    }
}

impl ExactSizeIterator for YuvTileRows<'_> {}

"""Find the objects of a scene and the fixtures (bins, dishes, cases) that hold them.

Background is whatever the image border shows: its dominant colours (a table, or a mesh
laid over it) are background everywhere, and anything that reaches the border (a cable
thrown across the table) is background too. Objects are never cut by the frame in an
inspection image, so this costs nothing on clean scenes and removes the distractions
of VID-AD's Cable and Mesh backgrounds. Fixtures are large, solid regions (they survive
an opening that erases cables and wires) holding objects of another colour.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from methods.caption_knn.colour_names import name_pixels, to_lab
from methods.logsad.segmentation import STRAND_THRESHOLD, strip_border_strands


@dataclass
class Segment:
    mask: np.ndarray  # (H, W) bool
    fixture: bool = False
    holder: int = -1  # index of the fixture holding this object, -1 = the table
    lab: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))  # median colour
    shades: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))  # a few pixels' colours


@dataclass
class SegmentationConfig:
    border_frac: float = 0.03  # width of the border band that models the background
    min_area_frac: float = 0.004  # smaller blobs are noise
    fixture_area_frac: float = 0.08  # a fixture covers at least this much of the image
    open_frac: float = 0.008  # opening radius that erases mesh wires
    fixture_open_frac: float = 0.03  # opening radius that erases cables but keeps bins and dishes
    fixture_wall_frac: float = 0.02  # inset from a fixture's outline (its walls and rim)
    fixture_contrast: float = 7.0  # Lab distance of an object from its fixture's floor
    local_window_frac: float = 0.12  # median window of the local-contrast cue
    local_contrast: float = 10.0  # L units an object's shading departs from its surroundings
    join_px: int = 2  # pieces of one object closer than about twice this are joined
    edge_min: float = 8.0  # smallest lightness gradient (L units per pixel, Sobel) of an outline
    edge_factor: float = 6.0  # an outline is this many times the image's median gradient


SHADES = 8  # pixels per object whose colours stand for its shading (lit side, shadow side)


def colour_sample(shades: list[np.ndarray], n: int = 128) -> np.ndarray | None:
    """At most `n` pixel colours of the normals' objects (a fixed draw), shading included, to protect objects."""
    if not shades:
        return None
    arr = np.concatenate(shades).astype(np.float32)
    if len(arr) > n:
        arr = arr[np.random.default_rng(0).choice(len(arr), n, replace=False)]
    return arr


def _disk(r: int) -> np.ndarray:
    r = max(1, int(r))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _distance(lab: np.ndarray, ref: np.ndarray, light_weight: float = 0.8) -> np.ndarray:
    """Lab distance with soft shadows (up to 10 L darker) forgiven."""
    d = lab - ref
    dl = light_weight * np.where(d[..., 0] >= 0, d[..., 0], np.minimum(0.0, d[..., 0] + 10.0))
    return np.sqrt(dl * dl + d[..., 1] ** 2 + d[..., 2] ** 2)


def _touches_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def fg_touching(mask: np.ndarray) -> np.ndarray:
    """The connected parts of `mask` that reach the image border."""
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.isin(labels, edge[edge > 0])


def _components(mask: np.ndarray, min_area: int) -> list[np.ndarray]:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return [labels == i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]


def _cable_piece(mask: np.ndarray, near_fixture: np.ndarray) -> bool:
    """A long, thin piece that runs into a fixture: a cable passing under a bin or a dish, cut off from the border."""
    if (mask & near_fixture).sum() < 3:
        return False
    pts = np.column_stack(np.nonzero(mask)[::-1]).astype(np.float32)
    (_, _), (w, h), _ = cv2.minAreaRect(pts)
    return max(w, h) >= 2.2 * max(min(w, h), 1.0) or mask.sum() < 0.5 * w * h


def _cut_at_both_ends(piece: np.ndarray, occluders: np.ndarray) -> bool:
    """An elongated piece whose two ends run into something: a stretch of cable between two things lying on it."""
    ys, xs = np.nonzero(piece)
    if len(ys) < 5:
        return False
    pts = np.column_stack([xs, ys]).astype(np.float32)
    centre = pts.mean(0)
    axis = np.linalg.eigh(np.cov((pts - centre).T))[1][:, -1]
    t = (pts - centre) @ axis
    lo, hi = float(t.min()), float(t.max())
    width = len(pts) / max(hi - lo, 1.0)
    if hi - lo < 2.0 * width:
        return False
    ring = (cv2.dilate(piece.astype(np.uint8), _disk(2)) > 0) & ~piece
    ry, rx = np.nonzero(ring)
    tr = (np.column_stack([rx, ry]).astype(np.float32) - centre) @ axis
    hit = occluders[ry, rx]
    ends = (tr < lo + width, tr > hi - width)
    return all(e.any() and hit[e].mean() >= 0.3 for e in ends)


def _strip_cables(fg: np.ndarray, lab: np.ndarray, object_colours: np.ndarray,
                  occluders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Foreground without cables, and the cable pixels taken out.

    Cable pixels are coloured like the foreground where a long piece of it crosses the image
    edge (a speck of shading in the border band is no cable): logsad's `strip_border_strands`
    marks them, protecting pixels closer to a normal object's colour; a marked piece is cable
    when it reaches the border or runs into something at both ends (a stretch between two
    objects lying on the cable). A separate piece of the same colour with free ends (a red
    stick beside a red cable) stays an object.
    """
    size = min(fg.shape)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg_touching(fg).astype(np.uint8), connectivity=8)
    long = 1 + np.flatnonzero(np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]) >= 0.1 * size)
    if len(long) == 0:
        return fg, np.zeros_like(fg)
    fg = fg & ((labels == 0) | np.isin(labels, long))  # specks on the border would be dropped anyway
    stripped = strip_border_strands(fg, lab, STRAND_THRESHOLD, object_colours)
    marked = fg & ~stripped
    out = stripped.copy()
    for piece in _components(marked, 1):
        if not _touches_border(piece) and not _cut_at_both_ends(piece, occluders & ~piece):
            out |= piece
    out = cv2.morphologyEx(out.astype(np.uint8), cv2.MORPH_OPEN, _disk(1)) > 0
    return out, fg & ~out


def _cut_cable_stubs(mask: np.ndarray, cable: np.ndarray) -> np.ndarray:
    """An object that lay on a cable, without the stub of cable left on its outline.

    An opening narrower than the object (0.8 of its inradius, at most 2.6 % of the image side)
    cuts off whatever is thinner than it; of that, only the pieces that touch the cable go
    (a triangle's corners stay).
    """
    m = mask.astype(np.uint8)
    near = cv2.dilate(cable.astype(np.uint8), _disk(2)) > 0
    if not (near & mask).any():
        return mask
    r = int(min(0.8 * float(cv2.distanceTransform(m, cv2.DIST_L2, 3).max()), 0.026 * min(mask.shape)))
    if r < 2:
        return mask
    opened = cv2.morphologyEx(m, cv2.MORPH_OPEN, _disk(r))
    if opened.sum() < 0.6 * m.sum():
        return mask
    off = mask & ~(cv2.dilate(opened, np.ones((3, 3), np.uint8)) > 0)
    out = mask.copy()
    for piece in _components(off, 1):
        if (piece & near).any():
            out &= ~piece
    return out


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = np.zeros_like(m)
    cv2.drawContours(out, contours, -1, 1, thickness=cv2.FILLED)
    return out.astype(bool)


def background_colours(lab: np.ndarray, band: int) -> np.ndarray:
    """(K, 3) Lab colours that cover at least 15 % of the border band (table, mesh)."""
    border = np.concatenate([lab[:band].reshape(-1, 3), lab[-band:].reshape(-1, 3),
                             lab[:, :band].reshape(-1, 3), lab[:, -band:].reshape(-1, 3)]).astype(np.float32)
    k = 3
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(border, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    share = np.bincount(labels.ravel(), minlength=k) / len(labels)
    return centres[share >= 0.15]


def segment(rgb: np.ndarray, config: SegmentationConfig | None = None,
            object_colours: np.ndarray | None = None) -> list[Segment]:
    """White-balanced float RGB (H, W, 3) → fixtures first, then objects (each with its holder).

    `object_colours` ((n, 3) Lab, the normals' objects) protect objects when cable pixels are
    taken out: foreground coloured like the foreground where it crosses the image's edge is
    cable wherever it is (logsad's `strip_border_strands`), unless a normal object's colour is
    closer. So an object lying on a cable comes loose from it, and a stretch of cable seen
    between two objects is not an object.
    """
    c = config or SegmentationConfig()
    h, w = rgb.shape[:2]
    size = min(h, w)
    u8 = np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)
    smooth = cv2.GaussianBlur(cv2.medianBlur(u8, 3), (0, 0), 0.8)
    lab = to_lab(smooth)
    band = max(2, round(c.border_frac * size))
    refs = background_colours(lab, band)
    # The table is the brightest border colour; a mesh or a cable colour is another.
    table = refs[int(np.argmax(refs[:, 0]))]
    to_table = _distance(lab, table)
    dist = np.min(np.stack([_distance(lab, r) for r in refs]), axis=0)

    def threshold(d: np.ndarray) -> float:
        ring = np.concatenate([d[:band].ravel(), d[-band:].ravel(), d[:, :band].ravel(), d[:, -band:].ravel()])
        return float(np.clip(4.0 * np.percentile(ring, 60) + 6.0, 8.0, 25.0))

    opener = _disk(round(c.open_frac * size))
    # Grey objects on a grey table or in a grey bin differ in shading, not colour: local contrast
    # against a median-filtered lightness catches them.
    light = np.clip(lab[..., 0] * 2.55, 0, 255).astype(np.uint8)
    window = max(3, round(c.local_window_frac * size) | 1)
    deviation = np.abs(light.astype(np.float32) - cv2.medianBlur(light, window).astype(np.float32)) / 2.55
    contrast = deviation > max(c.local_contrast, threshold(deviation))
    contrast = cv2.morphologyEx(contrast.astype(np.uint8), cv2.MORPH_CLOSE, _disk(3))
    contrast = _fill_holes(cv2.morphologyEx(contrast, cv2.MORPH_OPEN, opener) > 0)
    # Outlines: objects are shaded solids, a table or a bin floor is flat; closed outlines fill to objects.
    gl = cv2.GaussianBlur(lab[..., 0], (0, 0), 1.0)
    grad = np.hypot(cv2.Sobel(gl, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gl, cv2.CV_32F, 0, 1, ksize=3))
    edges = (grad > max(c.edge_min, c.edge_factor * float(np.median(grad)))).astype(np.uint8)
    edges = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, _disk(2))
    outlined = cv2.morphologyEx(_fill_holes(edges > 0).astype(np.uint8), cv2.MORPH_OPEN, _disk(3)) > 0
    outlined &= ~fg_touching(outlined)  # loops of cables reach the border
    fg = cv2.morphologyEx((dist > threshold(dist)).astype(np.uint8), cv2.MORPH_OPEN, opener) > 0
    fg |= contrast & ~fg_touching(contrast)
    table_threshold = threshold(dist)
    not_table = cv2.morphologyEx((to_table > table_threshold).astype(np.uint8), cv2.MORPH_OPEN, opener) > 0
    if object_colours is not None and len(object_colours):
        fg, cable = _strip_cables(fg, lab, np.asarray(object_colours, np.float32), fg | not_table)
    else:
        cable = np.zeros((h, w), bool)
    # Shading splits metal and glossy objects into pieces a few pixels apart; join them.
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_CLOSE, _disk(c.join_px)) > 0
    min_area = max(4, int(c.min_area_frac * h * w))

    segments: list[Segment] = []
    taken = np.zeros((h, w), bool)
    # Fixtures: big solid regions that hold objects of another colour.
    big_opener = _disk(round(c.fixture_open_frac * size))
    solid = cv2.morphologyEx((not_table | outlined).astype(np.uint8), cv2.MORPH_OPEN, big_opener) > 0
    for big in _components(solid, int(c.fixture_area_frac * h * w)):
        filled = _fill_holes(big)
        colour = np.median(lab[big], axis=0)
        inner_zone = cv2.erode(filled.astype(np.uint8), _disk(round(c.fixture_wall_frac * size))) > 0
        # The floor is the fixture's commonest colour; objects differ from it in colour or shading
        # (a cast shadow, up to 10 L darker, does not).
        floor = np.median(lab[inner_zone], axis=0) if inner_zone.any() else colour
        to_floor = _distance(lab, floor, light_weight=1.0)
        spread = float(np.median(to_floor[inner_zone])) if inner_zone.any() else 0.0
        inner = inner_zone & (to_floor > max(c.fixture_contrast, 3.0 * spread + 4.0))
        inner = cv2.morphologyEx(inner.astype(np.uint8), cv2.MORPH_CLOSE, _disk(c.join_px)) > 0
        # No mesh is drawn on a fixture, and the ring of a nut is thin: open by one pixel only.
        inner = cv2.morphologyEx(inner.astype(np.uint8), cv2.MORPH_OPEN, _disk(1)) > 0
        zone_edge = inner_zone & ~(cv2.erode(inner_zone.astype(np.uint8), _disk(1)) > 0)
        # Table showing between adjacent bins: a long piece with the table's colour or running into the
        # zone's edge; held objects are neither.
        fy, fx = np.nonzero(filled)
        span = (np.ptp(fy) + 1, np.ptp(fx) + 1)

        def strip(m: np.ndarray) -> bool:
            ys, xs = np.nonzero(m)
            long = np.ptp(ys) + 1 >= 0.6 * span[0] or np.ptp(xs) + 1 >= 0.6 * span[1]
            return long and ((m & zone_edge).sum() >= 10 or float(np.median(to_table[m])) < table_threshold)

        # A nut or washer is mostly hole: its ring alone may fall under min_area.
        held = [m for m in _components(inner, min_area // 2) if not strip(m) and _fill_holes(m).sum() >= min_area]
        if held:
            index = len(segments)
            segments.append(Segment(filled, fixture=True, lab=colour.astype(np.float32)))
            segments.extend(Segment(m, holder=index) for m in held)
            taken |= cv2.dilate(filled.astype(np.uint8), _disk(2)) > 0
        else:  # a large object such as a plate
            segments.append(Segment(filled & ~taken))
            taken |= filled
    # Objects on the table; a region reaching the border (a cable, a mesh) keeps only the
    # parts of another colour that stay inside the frame.
    names = None
    near_fixture = cv2.dilate(taken.astype(np.uint8), _disk(3)) > 0
    for comp in _components(fg & ~taken, min_area):
        if not _touches_border(comp):
            if not _cable_piece(comp, near_fixture):
                segments.append(Segment(comp))
            continue
        if names is None:  # colour names only where needed (naming every pixel costs 0.1 s)
            names = np.full((h, w), -1, np.int32)
            reach = fg & ~taken & fg_touching(fg & ~taken)
            names[reach] = name_pixels(lab[reach])
        for k in np.unique(names[comp]):
            part = cv2.morphologyEx((comp & (names == k)).astype(np.uint8), cv2.MORPH_OPEN, _disk(2)) > 0
            pieces = _components(part, min_area)
            if object_colours is None and any(_touches_border(m) for m in pieces):
                continue  # this colour is a cable's: its pieces between objects are cable too
            # With the cables' colours already taken out, only the pieces that reach the border are cable.
            segments.extend(Segment(m) for m in pieces if not _touches_border(m))
    rng = np.random.default_rng(0)
    for s in segments:
        if not s.fixture and s.mask.any():
            s.lab = np.median(lab[s.mask], axis=0).astype(np.float32)
            if cable.any():
                s.mask = _cut_cable_stubs(s.mask, cable)
            # Shades from inside the outline, where the table and cast shadows have not mixed in.
            inner = cv2.erode(s.mask.astype(np.uint8), _disk(2)) > 0
            pix = lab[inner] if inner.sum() >= SHADES else lab[s.mask]
            s.shades = pix[rng.choice(len(pix), min(SHADES, len(pix)), replace=False)].astype(np.float32)
    return [s for s in segments if s.mask.any()]

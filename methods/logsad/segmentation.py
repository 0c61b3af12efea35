"""Components of an image: illumination-normalised colour segmentation (embedded) or SAM masks (full).

The embedded segmenter needs no model. It white-balances each image on its own border
(the table seen around the objects), smooths in proportion to the measured noise,
models the background as the colours of that border, so a cable or mesh background
stays background, and splits large parts (bins, dishes) from what lies in them.
Components that touch the border are dropped when no normal component does, as cables
enter from it. Scene mode (`segment_scene`, opt-in) takes caption_knn's object finder instead.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import cKDTree

WORK_SIZE = 256  # segmentation runs at this long side; descriptors are in fractions of it
STRAND_THRESHOLD = 12.0  # Lab distance (lightness halved) from a border colour within which a pixel is cable


@dataclass
class Component:
    """One segmented part of an image, with the descriptors interests and rules use."""

    mask: np.ndarray  # (h, w) bool at work size, holes filled
    colour: np.ndarray  # (3,) mean normalised Lab
    area: float  # fraction of the image
    length: float  # major axis / image side
    width: float  # minor axis / image side
    solidity: float  # area / convex hull area
    extent: float  # area / rotated-rectangle area (1 square, 0.785 disc)
    holes: int  # holes inside the component (a washer has one)
    cx: float  # centroid, fraction of width
    cy: float  # centroid, fraction of height
    touches_border: bool = False
    feature: np.ndarray | None = None  # appearance (backbone features pooled over the mask)
    interest: int = -1  # assigned interest, -1 unknown
    match_distance: float = 0.0

    def descriptor(self) -> np.ndarray:
        """Colour, size and shape as one vector (unscaled)."""
        return np.array([
            self.colour[0] / 4.0, self.colour[1], self.colour[2],  # lightness counts a quarter: shading varies it
            20.0 * np.log(max(self.area, 1e-5)), 25.0 * np.log(max(self.length / max(self.width, 1e-3), 1.0)),
            30.0 * self.extent, 30.0 * self.solidity,
        ], dtype=np.float32)


def resize_work(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    scale = WORK_SIZE / max(h, w)
    if abs(scale - 1.0) < 1e-6:
        return image
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def border_band(h: int, w: int, frac: float = 0.04) -> np.ndarray:
    band = max(2, round(frac * min(h, w)))
    m = np.zeros((h, w), dtype=bool)
    m[:band], m[-band:], m[:, :band], m[:, -band:] = True, True, True, True
    return m


def normalise_illumination(image: np.ndarray, textured_border: float = 0.0) -> np.ndarray:
    """uint8 RGB → float32 RGB in [0, 1], white-balanced and exposed on the border's median.

    Low light, a tinted table and a warm lamp all scale the channels; dividing by the
    background colour undoes that, so colours compare across images and conditions.
    With `textured_border` > 0, a border whose lightness spreads wider than that (interquartile
    range over median: a mesh laid over the table) is balanced on its brightest quarter, the
    table between the wires, instead of a median that falls on the wires.
    """
    rgb = image.astype(np.float32) / 255.0
    band = border_band(*rgb.shape[:2])
    pix = rgb[band]
    ref = np.median(pix, axis=0)  # (3,)
    if textured_border > 0:
        lum = pix.mean(1)
        q25, q50, q75 = np.percentile(lum, [25, 50, 75])
        if (q75 - q25) / max(q50, 0.02) > textured_border:
            ref = np.median(pix[lum >= q75], axis=0)
    ref = np.maximum(ref, 0.04)
    gain = 0.8 / ref
    gain = gain * min(1.0, 6.0 / gain.max())  # a black image stays dark instead of exploding noise
    return np.clip(rgb * gain, 0.0, 1.0)


def to_lab(rgb01: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb01.astype(np.float32), cv2.COLOR_RGB2Lab)


def background_distance(lab: np.ndarray, centres: np.ndarray, shadow: float = 12.0) -> np.ndarray:
    """(h, w, 3) Lab, (k, 3) background colours → (h, w) distance to the nearest one.

    Darkening by up to `shadow` L units is free (soft shadows are background) and
    lightness counts half, as shading changes it more than colour.
    """
    d = lab[:, :, None, :] - centres[None, None]  # (h, w, k, 3)
    dl = d[..., 0]
    dl = np.where(dl < 0, np.minimum(0.0, dl + shadow), dl)
    dist = np.sqrt((0.5 * dl) ** 2 + d[..., 1] ** 2 + d[..., 2] ** 2)
    return dist.min(-1)


def border_colours(lab: np.ndarray, k: int = 5, objects: np.ndarray | None = None,
                   keep_out: float = 15.0) -> np.ndarray:
    """k-means centres of the border band: the table, and cables or a mesh when there are any.

    A centre close to one of the normals' object colours (`objects`, (n, 3)) is not
    background: an orange cable must not erase the oranges.
    """
    band = lab[border_band(*lab.shape[:2])].astype(np.float32)
    k = min(k, len(band))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(band, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    share = np.bincount(labels.ravel(), minlength=k) / len(band)
    order = np.argsort(-share)
    keep = [i for i in order if share[i] >= 0.03]
    if objects is not None and len(objects):
        table = order[0]  # the biggest border colour is the table whatever its colour
        keep = [i for i in keep if i == table or min(_colour_dist(centres[i], o) for o in objects) > keep_out]
    return centres[keep]


def foreground_mask(lab: np.ndarray, threshold: float = 12.0, objects: np.ndarray | None = None,
                    open_radius: int = 1) -> np.ndarray:
    fg = background_distance(lab, border_colours(lab, objects=objects)) > threshold
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * open_radius + 1, 2 * open_radius + 1))
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    return fg.astype(bool)


def strip_border_strands(fg: np.ndarray, lab: np.ndarray, threshold: float,
                         objects: np.ndarray | None = None, max_colours: int = 256,
                         reaching: bool = False) -> np.ndarray:
    """Foreground minus the pixels coloured as the foreground is where it meets the border.

    Cables enter from the border and objects lie on them, so a cable and the objects it passes
    under form one piece that reaches the border, and dropping border pieces drops the objects
    too. The colours of the foreground in the border band are its cables' colours (shading
    included); a foreground pixel within `threshold` of one of them, and closer to it than to
    every normal object colour (`objects`), is cable, wherever it is: a stretch of cable seen
    between two bins does not reach the border itself. What is left may come loose from it.
    Only the outermost ring (1.5 % of the side) is read, so an object that comes near the edge
    without crossing it lends no colour.

    `reaching` (LogSAD) reads the colours more carefully: a colour no normal object has goes wherever
    it shows, but one close to a normal object's (a blue cable among blue sticks) only where the pixels
    of it reach the border; specks of a cable's colour and patches of it wider than a cable (a ball a
    cable touches) stay, and a narrow piece that cable pixels enclose (the shadow of one cable on
    another) goes too.
    """
    ends = lab[fg & border_band(*fg.shape, frac=0.015)]
    if len(ends) == 0:
        return fg
    if len(ends) > max_colours:
        ends = ends[np.random.default_rng(0).choice(len(ends), max_colours, replace=False)]
    # Reaching: distances once per colour rounded to whole Lab units (a bin of 10,000 pixels has a few
    # hundred), then spread back to the pixels.
    if reaching:
        q = np.round(lab[fg]).astype(np.int32) + 128  # L in [0, 100], a and b in [-128, 127]: a byte each
        keys, back = np.unique((q[:, 0] << 16) | (q[:, 1] << 8) | q[:, 2], return_inverse=True)
        colours = np.stack([keys >> 16, (keys >> 8) & 255, keys & 255], axis=1) - 128
    else:
        colours, back = lab[fg], np.arange(int(fg.sum()))
    d_end = _nearest_lab_dist(colours, ends)
    cable = d_end < threshold
    shared = np.zeros(len(colours), bool)
    if objects is not None and len(objects):
        cable &= d_end < _nearest_lab_dist(colours, objects)
        by_objects = _nearest_lab_dist(ends, objects) < 15.0
        if reaching and by_objects.any():
            shared = _nearest_lab_dist(colours, ends[by_objects]) < threshold
    strand = np.zeros_like(fg)
    strand[fg] = cable[back]
    if not reaching:
        return fg & ~strand
    # A cable coloured like a normal object is taken out only where it reaches the border (a blue stick
    # off a blue cable stays); a cable of a colour no object has, wherever it shows.
    along = np.zeros_like(fg)
    along[fg] = (cable & shared)[back]
    strand = _reaching_border(along) | (strand & ~along)
    # Specks of a cable's shade in an object's texture or on its blended edge are not cable (cables are
    # 5-12 px across at work size), and nothing wider than a cable is: a ball of a cable's colour that
    # the cable touches stays.
    strand = cv2.morphologyEx(strand.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    strand &= ~(cv2.morphologyEx(strand.astype(np.uint8), cv2.MORPH_OPEN, _DISK_BEYOND_CABLE) > 0)
    strand |= _enclosed_by(fg & ~strand, strand)
    return fg & ~strand


_DISK_BEYOND_CABLE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (17, 17))


def _enclosed_by(pieces: np.ndarray, strand: np.ndarray, share: float = 0.5) -> np.ndarray:
    """The connected parts of `pieces` no wider than a cable whose outline is mostly `strand`: where two
    cables cross, the upper one's shadow gives the lower a colour seen nowhere on the border, and that piece
    is cable too (a tray whose texture has a cable's shades in places is wider, and stays)."""
    pieces = pieces & ~(cv2.morphologyEx(pieces.astype(np.uint8), cv2.MORPH_OPEN, _DISK_BEYOND_CABLE) > 0)
    n, cc = cv2.connectedComponents(pieces.astype(np.uint8), connectivity=8)
    out = np.zeros_like(pieces)
    if n <= 1 or not strand.any():
        return out
    ring = cv2.dilate(pieces.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~pieces
    # Each ring pixel to a piece next to it (the higher label where two are that close).
    near = cv2.dilate(cc.astype(np.float32), np.ones((5, 5), np.uint8)).astype(np.int32)
    on_ring = near[ring]
    total = np.bincount(on_ring, minlength=n)
    cabled = np.bincount(on_ring[strand[ring]], minlength=n)
    enclosed = np.flatnonzero((total > 0) & (cabled > share * total))
    enclosed = enclosed[enclosed > 0]
    return np.isin(cc, enclosed) if len(enclosed) else out


def _reaching_border(mask: np.ndarray) -> np.ndarray:
    """The connected parts of a bool mask that touch the image border."""
    n, cc = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    edge = np.unique(np.concatenate([cc[0], cc[-1], cc[:, 0], cc[:, -1]]))
    return np.isin(cc, edge[edge > 0])


def detach_from_cables(fg: np.ndarray, lab: np.ndarray, objects: np.ndarray | None, open_radius: int,
                       reaching: bool = False) -> np.ndarray:
    """`strip_border_strands`, then the segmenter's opening again, so cable fringes left on an object fall off."""
    fg = strip_border_strands(fg, lab, STRAND_THRESHOLD, objects, reaching=reaching)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * open_radius + 1, 2 * open_radius + 1))
    return cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)


def _nearest_lab_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, 3), (m, 3) Lab → (n,) distance of each row of a to its nearest row of b, lightness counting half.

    A k-d tree over b: a cabled image has some 40,000 foreground pixels against 256 colours, for
    which an (n, m) distance matrix costs 110 ms on one core and the tree 17 ms.
    """
    w = np.array([0.5, 1.0, 1.0])
    return cKDTree(np.asarray(b, np.float64) * w).query(np.asarray(a, np.float64) * w)[0]


def _colour_dist(a: np.ndarray, b: np.ndarray) -> float:
    d = a - b
    return float(np.sqrt((0.5 * d[0]) ** 2 + d[1] ** 2 + d[2] ** 2))


def describe(mask: np.ndarray, lab: np.ndarray) -> Component | None:
    """Descriptors of one bool mask; None when it is too small to describe."""
    h, w = mask.shape
    filled = fill_holes(mask)
    area = int(filled.sum())
    if area < 5:
        return None
    ys, xs = np.nonzero(filled)
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    outer = max(contours, key=cv2.contourArea)
    holes = 0
    if hierarchy is not None:
        holes = int(sum(1 for i, hrow in enumerate(hierarchy[0]) if hrow[3] >= 0 and cv2.contourArea(contours[i]) > 4))
    hull_area = max(cv2.contourArea(cv2.convexHull(outer)), 1.0)
    (_, _), (rw, rh), _ = cv2.minAreaRect(outer)
    side = float(max(h, w))
    length, width = max(rw, rh, 1.0), max(min(rw, rh), 1.0)
    return Component(
        mask=filled,
        colour=lab[mask].mean(0).astype(np.float32),
        area=area / float(h * w),
        length=length / side,
        width=width / side,
        solidity=float(min(1.0, area / hull_area)),
        extent=float(min(1.0, area / max(rw * rh, 1.0))),
        holes=holes,
        cx=float(xs.mean() / w),
        cy=float(ys.mean() / h),
        touches_border=bool(filled[0].any() or filled[-1].any() or filled[:, 0].any() or filled[:, -1].any()),
    )


def fill_holes(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    h, w = m.shape
    flood = np.zeros((h + 2, w + 2), np.uint8)
    flood[1:-1, 1:-1] = m
    cv2.floodFill(flood, None, (0, 0), 2)
    return (flood[1:-1, 1:-1] != 2)


@dataclass
class SegmenterConfig:
    background_threshold: float = 12.0
    min_area: float = 0.0008  # fraction of the image; smaller parts are noise or anti-aliasing
    container_area: float = 0.03  # a component this large may hold others (a bin, a dish, a case)
    content_threshold: float = 20.0  # colour distance from a container's own colour that makes a content
    fringe_radius: float = 0.0  # a content with an inradius up to this (px) on the outline is fringe (0: off)
    textured_border: float = 0.0  # white balance on the table between a mesh's wires above this border spread (0: off)
    strip_cables: str = "off"  # "anywhere" or "reaching": see strip_border_strands; "off": border parts just dropped
    drop_border: bool = True  # learned: True when no normal component touches the border
    open_radius: int = 1  # learned: thinner than the thinnest normal object, so cables are opened away
    object_colours: np.ndarray | None = None  # learned: (n, 3) Lab colours of normal components
    mode: str = "colour"  # "colour": this module's segmenter; "scene": caption_knn's object finder
    scene_colours: np.ndarray | None = None  # learned in scene mode: (n, 3) Lab pixel colours of normal objects


def denoise(rgb01: np.ndarray) -> np.ndarray:
    """Smooth in proportion to the noise measured on the border (low light brings shot noise)."""
    band = border_band(*rgb01.shape[:2])
    high = rgb01 - cv2.GaussianBlur(rgb01, (0, 0), 1.0)
    noise = float(np.median(np.abs(high[band]))) * 1.4826
    sigma = float(np.clip(noise * 120.0, 0.6, 2.5))
    return cv2.GaussianBlur(rgb01, (0, 0), sigma)


def prepare(image: np.ndarray, textured_border: float = 0.0) -> np.ndarray:
    """uint8 RGB of any size → normalised, denoised Lab at work size."""
    return to_lab(denoise(normalise_illumination(resize_work(image), textured_border)))


def segment_colour(image: np.ndarray, cfg: SegmenterConfig) -> tuple[list[Component], np.ndarray]:
    """Embedded segmentation of one uint8 image → components and its normalised Lab (work size).

    Objects are the connected parts of the foreground; a large part (a bin, a dish) is
    split into itself and the parts inside it whose colour differs from its own.
    """
    lab = prepare(image, cfg.textured_border)
    fg = foreground_mask(lab, cfg.background_threshold, cfg.object_colours, cfg.open_radius)
    if cfg.drop_border and cfg.strip_cables != "off":
        fg = detach_from_cables(fg, lab, cfg.object_colours, cfg.open_radius, cfg.strip_cables == "reaching")
    h, w = fg.shape
    min_px = cfg.min_area * h * w
    comps: list[Component] = []
    n, cc, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_px:
            continue
        part = cc == i
        if part.sum() >= cfg.container_area * h * w:
            comps.extend(split_container(part, lab, cfg, min_px, others=fg & ~part))
        else:
            comp = describe(part, lab)
            if comp is not None:
                comps.append(comp)
    if cfg.drop_border:
        comps = [c for c in comps if not c.touches_border]
    return comps, lab


def segment_scene(image: np.ndarray, cfg: SegmenterConfig) -> tuple[list[Component], np.ndarray]:
    """Components from caption_knn's object finder: fixtures (without what they hold), held objects, table objects.

    It finds grey parts by their shading and outline where colour alone does not separate them
    (bolts in a grey bin) and takes cables out by their colour with the normals' object colours
    protected (`cfg.scene_colours`). Descriptors are measured in this module's Lab, as the colour
    segmenter's are, so interests and rules read the same either way.
    """
    from methods.caption_knn.colour_names import white_balance  # imported here: caption_knn imports this module
    from methods.caption_knn.segmentation import segment

    lab = prepare(image, cfg.textured_border)
    segs = segment(white_balance(resize_work(image)), None, cfg.scene_colours)
    min_px = cfg.min_area * lab.shape[0] * lab.shape[1]
    comps = []
    for k, sg in enumerate(segs):
        mask = sg.mask
        if sg.fixture:
            held = np.zeros_like(mask)
            for other in segs:
                if other.holder == k:
                    held |= other.mask
            mask = mask & ~(cv2.dilate(held.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
        if mask.sum() >= min_px and (comp := describe(mask, lab)) is not None:
            comps.append(comp)
    return comps, lab


def segment_embedded(image: np.ndarray, cfg: SegmenterConfig) -> tuple[list[Component], np.ndarray]:
    """The embedded tier's components with whichever segmenter `cfg.mode` names."""
    return segment_scene(image, cfg) if cfg.mode == "scene" else segment_colour(image, cfg)


def learn_scene_segmenter(images: list[np.ndarray], n_colours: int = 128) -> SegmenterConfig:
    """Scene mode with up to `n_colours` pixel colours of the normals' objects (a fixed draw), shading included."""
    from methods.caption_knn.colour_names import white_balance
    from methods.caption_knn.segmentation import colour_sample, segment

    shades = [sg.shades for img in images for sg in segment(white_balance(resize_work(img)), None, None)
              if not sg.fixture and len(sg.shades)]
    return SegmenterConfig(mode="scene", scene_colours=colour_sample(shades, n_colours))


EMBEDDED_SEGMENTERS = ("colour", "scene")
CABLE_STRIPS = ("off", "anywhere", "reaching")


def learn_embedded(images: list[np.ndarray], how: str = "colour", base: SegmenterConfig | None = None,
                   judge: Callable[[list[list[Component]]], float] | None = None) -> SegmenterConfig:
    """The embedded segmenter `how` names ("colour" or "scene"), learned on normal images (colour: from `base`,
    with `judge` as `learn_segmenter` takes it)."""
    if how not in EMBEDDED_SEGMENTERS:
        raise ValueError(f"segmenter must be one of {', '.join(EMBEDDED_SEGMENTERS)}; got {how!r}")
    return learn_segmenter(images, base, judge=judge) if how == "colour" else learn_scene_segmenter(images)


def split_container(part: np.ndarray, lab: np.ndarray, cfg: SegmenterConfig, min_px: float,
                     others: np.ndarray | None = None) -> list[Component]:
    """A container's body and the differently coloured parts inside it.

    `others` are the foreground pixels of other components: an object lying in a hole of
    the container is already a component of its own and must not be counted twice.
    """
    pix = lab[part]
    own = np.median(pix, axis=0)
    d = lab - own
    dist = np.sqrt((0.5 * d[..., 0]) ** 2 + d[..., 1] ** 2 + d[..., 2] ** 2)
    content = (dist > cfg.content_threshold) & fill_holes(part)
    if others is not None:
        content &= ~others
    content = cv2.morphologyEx(content.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    if cfg.fringe_radius > 0:
        _keep_fringes(content, part, cfg.fringe_radius)
    body = part & ~content.astype(bool)
    out = []
    if body.sum() < 0.5 * part.sum():  # no dominant colour: one object after all
        comp = describe(part, lab)
        return [comp] if comp is not None else []
    comp = describe(body, lab)
    if comp is not None:
        out.append(comp)
    n, cc, stats, _ = cv2.connectedComponentsWithStats(content, connectivity=8)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] >= min_px:
            sub = describe(cc == i, lab)
            if sub is not None:
                out.append(sub)
    return out


def _keep_fringes(content: np.ndarray, part: np.ndarray, radius: float) -> None:
    """Give the pieces of `content` on the part's outline with an inradius up to `radius` px back to the body.

    Behind a mesh, wire crossings blurred into an object's edge leave a fringe of mixed colour
    along it, which the split would count as parts (a tape with five specks). An object of another
    colour lying against the part (a pen touching a case) is thicker and stays a part of its own.
    """
    outside = cv2.dilate((~fill_holes(part)).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    _, cc = cv2.connectedComponents(content, connectivity=8)
    inside = cv2.distanceTransform(content, cv2.DIST_L2, 3)  # pieces are apart, so each one's own inradius
    for i in np.unique(cc[outside & (cc > 0)]):
        piece = cc == i
        if inside[piece].max() <= radius:
            content[piece] = 0


def segment_masks(image: np.ndarray, masks: list[np.ndarray],
                  cfg: SegmenterConfig) -> tuple[list[Component], np.ndarray]:
    """Components from given masks (SAM's), at work size, with the same descriptors."""
    lab = prepare(image, cfg.textured_border)
    h, w = lab.shape[:2]
    comps = []
    for m in masks:
        m = cv2.resize(m.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
        if m.sum() < cfg.min_area * h * w or m.mean() > 0.5:  # specks and the table itself
            continue
        comp = describe(m, lab)
        if comp is None or (cfg.drop_border and comp.touches_border):
            continue
        comps.append(comp)
    return comps, lab


def learn_segmenter(images: list[np.ndarray], base: SegmenterConfig | None = None,
                    background_thresholds: tuple[float, ...] = (7.0, 10.0, 14.0),
                    content_thresholds: tuple[float, ...] = (10.0, 15.0, 22.0),
                    judge: Callable[[list[list[Component]]], float] | None = None) -> SegmenterConfig:
    """Fit the segmenter's settings on normal images alone.

    The thresholds are chosen so that the normals agree on how many components they
    hold (the most frequent count is the most frequent; ties go to the finer split).
    With a `judge` (higher is better: a given rule file holding on the normals), its
    verdict on the normals' components comes first and the agreement breaks ties.
    Object colours protect objects from a background of the same colour; the opening
    radius is a third of the thinnest normal object; border components are dropped
    unless normal objects touch the border too.
    """
    import dataclasses
    from collections import Counter

    probe = images[:8]
    base = dataclasses.replace(base or SegmenterConfig(), drop_border=True, object_colours=None, open_radius=1)
    best, best_key = base, (-math.inf, -1.0, -1)
    for bt in background_thresholds:
        for ct in content_thresholds:
            cfg = dataclasses.replace(base, background_threshold=bt, content_threshold=ct)
            comps = [segment_colour(img, cfg)[0] for img in probe]
            counts = [len(cs) for cs in comps]
            mode, freq = Counter(counts).most_common(1)[0]
            key = (judge(comps) if judge is not None else 0.0, freq / len(counts) if mode > 0 else 0.0, mode)
            if key > best_key:
                best, best_key = cfg, key
    cfg = dataclasses.replace(best, drop_border=False)
    comps = [c for img in images for c in segment_colour(img, cfg)[0]]
    if not comps:
        return best
    touching = np.mean([c.touches_border for c in comps])
    inner = [c for c in comps if not c.touches_border] or comps
    widths = np.array([c.width * WORK_SIZE for c in inner])
    colours = np.array([c.colour for c in inner], np.float32)
    if len(colours) > 64:
        colours = colours[np.random.default_rng(0).choice(len(colours), 64, replace=False)]
    radius = int(np.clip(np.floor(np.percentile(widths, 2) / 3.0), 1, 6))
    return dataclasses.replace(cfg, drop_border=bool(touching < 0.05), object_colours=colours, open_radius=radius)

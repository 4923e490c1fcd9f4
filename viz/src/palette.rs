//! The twin's colours (sRGB bytes), shared with the screenshot test.

pub type Rgb = [u8; 3];

pub const WALL: Rgb = [0x4a, 0x4f, 0x59];
pub const FLOOR: Rgb = [0xf4, 0xf1, 0xea];
pub const ENTRANCE: Rgb = [0x8f, 0xd1, 0x9e];
pub const EXIT: Rgb = [0xf2, 0xa7, 0xa7];
pub const LANE_BASE: Rgb = [0xc9, 0xce, 0xd6];
pub const BACKGROUND: Rgb = [0x1e, 0x22, 0x2a];

/// Lane state.
pub const LANE_OPEN: Rgb = [0x2d, 0xa4, 0x4e];
pub const LANE_CLOSED: Rgb = [0x8c, 0x95, 0x9f];
pub const LANE_DOWN: Rgb = [0xcf, 0x22, 0x2e];

/// Shoppers by what they are doing.
pub const SHOPPER: Rgb = [0x0b, 0x3d, 0x91];
pub const SHOPPER_KIOSK: Rgb = [0x82, 0x50, 0xdf];
pub const SHOPPER_LEAVING: Rgb = [0xd1, 0x24, 0x2f];
pub const SHOPPER_SERVED: Rgb = [0xff, 0xff, 0xff];
pub const QUEUE_DOT: Rgb = [0xf0, 0x8c, 0x00];
/// Waiting in a kiosk's queue (the kiosk queue's dots: the kiosk's violet, lighter).
pub const KIOSK_QUEUE_DOT: Rgb = [0xb0, 0x6c, 0xf5];
/// In-store shoppers at a flash sale's shelf (scanning its poster, waiting for an answer).
pub const SALE_DOT: Rgb = [0xd9, 0x48, 0x0f];
/// A flash sale's sell-through bar (units taken of the quota).
pub const SALE_BAR: Rgb = [0xfd, 0xb0, 0x6e];

/// A failed device.
pub const DEVICE_DOWN: Rgb = [0xe5, 0x48, 0x4d];

/// Shelf colours by category (cycled when there are more categories).
const CATEGORIES: [Rgb; 14] = [
    [0x7e, 0xb7, 0x6b], // green
    [0xe8, 0xb0, 0x5c], // amber
    [0x6f, 0x9f, 0xd8], // blue
    [0xd8, 0x7a, 0x7a], // red
    [0xa9, 0x8b, 0xd6], // violet
    [0x5f, 0xc2, 0xc0], // teal
    [0xd6, 0xc3, 0x5a], // mustard
    [0xe3, 0x8f, 0xc4], // pink
    [0x9c, 0xa8, 0x5a], // olive
    [0xb7, 0x8b, 0x6e], // brown
    [0x7f, 0xc8, 0xe8], // sky
    [0xc4, 0x9a, 0x3f], // ochre
    [0x8f, 0xa3, 0xbf], // slate
    [0xe0, 0x9f, 0x7d], // salmon
];

/// The shelf colour of category `i`.
pub fn category(i: usize) -> Rgb {
    CATEGORIES[i % CATEGORIES.len()]
}

/// Device kinds, as `DeviceKind::name` gives them, in the order of [`DEVICES`].
pub const DEVICE_KINDS: [&str; 7] =
    ["door_counter", "wifi_probe", "beacon", "face_camera", "esl", "smart_shelf", "kiosk"];

/// Device icons by kind (index as `DeviceKind::name` order: door counter, WiFi probe,
/// beacon, face camera, ESL, smart shelf, kiosk).
pub const DEVICES: [Rgb; 7] = [
    [0x24, 0x29, 0x2f],
    [0x09, 0x69, 0xda],
    [0x1a, 0x7f, 0x37],
    [0x6e, 0x40, 0xc9],
    [0xff, 0xff, 0xff],
    [0xbf, 0x87, 0x00],
    [0x82, 0x50, 0xdf],
];

/// The dwell heat map's ramp: transparent yellow to opaque red for `v` in 0..=1 (drawn
/// over the floor; [`over`] gives the colour seen).
pub fn heat(v: f32) -> [u8; 4] {
    let v = v.clamp(0.0, 1.0);
    let r = 255.0;
    let g = 220.0 * (1.0 - v);
    let a = if v <= 0.0 { 0.0 } else { 60.0 + 160.0 * v };
    [r as u8, g as u8, 0, a as u8]
}

/// Stops of the density ramp: one person in a cell is a cool light colour (the dark
/// shopper dots stand out on it), a full cell deep crimson.
const DENSITY: [(f32, Rgb); 4] = [
    (0.0, [0xa6, 0xdb, 0xe8]),
    (1.0 / 3.0, [0xfa, 0xe3, 0x7a]),
    (2.0 / 3.0, [0xf2, 0x6b, 0x3a]),
    (1.0, [0x9e, 0x10, 0x4a]),
];

/// The density view's ramp, opaque, for `v` = people / capacity of the cell in 0..=1
/// (above 1 as 1); an empty cell (`v` = 0) is transparent, showing the floor.
pub fn density(v: f32) -> [u8; 4] {
    if v.is_nan() || v <= 0.0 {
        return [0, 0, 0, 0];
    }
    let v = v.min(1.0);
    let upper = DENSITY.iter().position(|(at, _)| *at >= v).unwrap_or(DENSITY.len() - 1).max(1);
    let ((a, ca), (b, cb)) = (DENSITY[upper - 1], DENSITY[upper]);
    let t = ((v - a) / (b - a)).clamp(0.0, 1.0);
    let mix = |i: usize| (f32::from(ca[i]) + (f32::from(cb[i]) - f32::from(ca[i])) * t).round() as u8;
    [mix(0), mix(1), mix(2), 255]
}

/// The colour seen when `top` is drawn over `base`: alpha blending as the GPU does it, in
/// linear light between sRGB encodings.
pub fn over(top: [u8; 4], base: Rgb) -> Rgb {
    let linear = |c: u8| {
        let c = f32::from(c) / 255.0;
        if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let encode = |l: f32| {
        let c = if l <= 0.003_130_8 { l * 12.92 } else { 1.055 * l.powf(1.0 / 2.4) - 0.055 };
        (c.clamp(0.0, 1.0) * 255.0).round() as u8
    };
    let a = f32::from(top[3]) / 255.0;
    let mix = |i: usize| encode(linear(top[i]) * a + linear(base[i]) * (1.0 - a));
    [mix(0), mix(1), mix(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: Rgb, b: Rgb) -> u32 {
        a.iter().zip(b).map(|(x, y)| u32::from(x.abs_diff(y))).sum()
    }

    #[test]
    fn density_ramp_is_transparent_when_empty_opaque_and_distinct_per_person() {
        assert_eq!(density(0.0)[3], 0);
        // A cell of capacity 4: each head count has its own colour, apart from the floor's
        // and from the others', and the ramp gets darker as the cell fills.
        let levels: Vec<Rgb> = (1..=4).map(|n| over(density(n as f32 / 4.0), FLOOR)).collect();
        for (i, c) in levels.iter().enumerate() {
            assert_eq!(density((i + 1) as f32 / 4.0)[3], 255);
            assert!(distance(*c, FLOOR) > 60, "{} people: {c:?} too close to the floor", i + 1);
            for d in &levels[i + 1..] {
                assert!(distance(*c, *d) > 60, "{c:?} and {d:?} are too alike");
            }
        }
        let lightness = |c: Rgb| c.iter().map(|x| u32::from(*x)).sum::<u32>();
        assert!(levels.windows(2).all(|w| lightness(w[1]) < lightness(w[0])), "{levels:?}");
        assert_eq!(density(1.5), density(1.0), "over capacity is drawn as full");
        // The dark shopper dot stands out on a cell of one person.
        assert!(distance(levels[0], SHOPPER) > 300);
    }

    #[test]
    fn over_blends_like_the_gpu() {
        assert_eq!(over([10, 20, 30, 255], FLOOR), [10, 20, 30]);
        assert_eq!(over([10, 20, 30, 0], FLOOR), FLOOR);
        // Half white over black is lighter than 128 in sRGB (blended in linear light).
        assert_eq!(over([255, 255, 255, 128], [0, 0, 0]), [188, 188, 188]);
    }
}

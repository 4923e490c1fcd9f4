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

/// The heat map's ramp: transparent yellow to opaque red for `v` in 0..=1.
pub fn heat(v: f32) -> [u8; 4] {
    let v = v.clamp(0.0, 1.0);
    let r = 255.0;
    let g = 220.0 * (1.0 - v);
    let a = if v <= 0.0 { 0.0 } else { 60.0 + 160.0 * v };
    [r as u8, g as u8, 0, a as u8]
}

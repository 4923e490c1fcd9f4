//! Where the floor is drawn: world units are pixels at zoom 1, a cell is [`CELL`] of them,
//! and the floor's centre is the world origin (plan rows grow downwards, world y upwards).

/// World units per cell.
pub const CELL: f32 = 24.0;

/// The floor plan's size in cells.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    pub width: u16,
    pub height: u16,
}

impl Plan {
    /// World position of the centre of cell (x, y).
    pub fn world(&self, x: f32, y: f32) -> (f32, f32) {
        ((x + 0.5 - f32::from(self.width) / 2.0) * CELL, (f32::from(self.height) / 2.0 - y - 0.5) * CELL)
    }

    /// The camera scale (world units per pixel) that fits the floor, with a margin, into
    /// a viewport of `w` x `h` pixels.
    pub fn fit_scale(&self, w: f32, h: f32) -> f32 {
        let margin = 0.95;
        (f32::from(self.width) * CELL / (w * margin).max(1.0))
            .max(f32::from(self.height) * CELL / (h * margin).max(1.0))
    }
}

/// A camera's view: the viewport (pixels from the window's top-left), the world point at
/// its centre and the scale.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct View {
    pub viewport: [f32; 4],
    pub centre: [f32; 2],
    pub scale: f32,
}

impl View {
    /// The window pixel where world point (x, y) is drawn.
    pub fn pixel(&self, (x, y): (f32, f32)) -> (f32, f32) {
        let [vx, vy, vw, vh] = self.viewport;
        (vx + vw / 2.0 + (x - self.centre[0]) / self.scale, vy + vh / 2.0 - (y - self.centre[1]) / self.scale)
    }
}

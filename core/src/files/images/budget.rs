//! What working on an image costs in memory, and the process's share of it: at most two images
//! are read and fitted at once, and one is decoded only when its cost fits what the others left
//! of the budget (one that would need more than all of it is refused).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use image::ImageFormat;

/// Bytes that image work may hold at once in this process, all calls together: the file read,
/// the decoded pixels, what the codec keeps beside them and the scaling's buffers.
pub const DECODE_BUDGET_BYTES: u64 = 200 * 1024 * 1024;

/// Images worked on at once in this process, at most.
const AT_ONCE: usize = 2;

/// The process's budget for image work.
pub(super) static WORK: Budget = Budget::new(DECODE_BUDGET_BYTES, AT_ONCE);

/// The most bytes decoding an image of `width`×`height` (`decoded` bytes of pixels, `encoded` its
/// file) and scaling it to `side` holds at once: the pixels, what the codec keeps beside them,
/// and the scaled image (and Lanczos's float rows when the scale is under a half). The codecs'
/// shares were measured (VmHWM) on 40-megapixel images: PNG little beyond its rows, a baseline
/// JPEG a fifth of the pixels, a progressive one twice them (its coefficients, 2 bytes a
/// sample), a lossy WebP 1.5 bytes a pixel (YUV), a lossless one 4 (ARGB), GIF under a byte a
/// pixel (its indices).
pub(super) fn decode_cost(
    format: ImageFormat,
    encoded: &[u8],
    (width, height): (u32, u32),
    decoded: u64,
    side: u32,
) -> u64 {
    let (w, h) = (u64::from(width), u64::from(height));
    let long = w.max(h).max(1);
    let side = u64::from(side);
    let per_pixel = decoded.div_ceil((w * h).max(1));
    let (sw, sh) = ((w * side).div_ceil(long), (h * side).div_ceil(long));
    let scaled = sw * sh * per_pixel;
    let resample = if long >= side * 2 {
        scaled
    } else {
        // Lanczos: the vertical pass makes w × sh pixels of four f32.
        w * sh * 16 + scaled
    };
    let codec = match format {
        ImageFormat::Jpeg if jpeg_progressive(encoded) => 2 * decoded + decoded / 8,
        ImageFormat::Jpeg => decoded / 2,
        ImageFormat::WebP if webp_lossy(encoded) => 2 * w * h,
        ImageFormat::WebP => 4 * w * h,
        ImageFormat::Gif => w * h,
        _ => decoded / 16,
    };
    decoded + codec + resample
}

/// Whether a JPEG's frame is progressive (SOF2, 6, 10, 14), or cannot be told before its first
/// scan: then it is taken to be.
fn jpeg_progressive(bytes: &[u8]) -> bool {
    let mut i = 2; // after SOI
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(i), bytes.get(i + 1)) {
        match marker {
            // Fill bytes.
            0xFF => i += 1,
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => i += 2,
            // A frame header (0xC4, 0xC8 and 0xCC are tables, not frames).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
            }
            // A scan or the end before any frame header.
            0xDA | 0xD9 => return true,
            _ => {
                let Some(len) = bytes.get(i + 2..i + 4) else {
                    return true;
                };
                i += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
            }
        }
    }
    true
}

/// Whether a WebP is a simple lossy one (its first chunk `VP8 `); a lossless or extended one
/// (`VP8L`, `VP8X`) may be decoded as ARGB first.
fn webp_lossy(bytes: &[u8]) -> bool {
    bytes.get(12..16) == Some(b"VP8 ".as_slice())
}

/// Bytes taken, and slots taken.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Used {
    bytes: u64,
    slots: usize,
}

/// A budget of `bytes` shared by at most `slots` holders at once. A holder waits for its bytes
/// holding none, so the bytes taken always belong to holders at work: no one waits for good.
pub(super) struct Budget {
    bytes: u64,
    slots: usize,
    used: Mutex<Used>,
    freed: Condvar,
}

/// One of a [`Budget`]'s slots, with the bytes it reserved; all given back when dropped.
pub(super) struct Slot<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Budget {
    const fn new(bytes: u64, slots: usize) -> Self {
        Self {
            bytes,
            slots,
            used: Mutex::new(Used { bytes: 0, slots: 0 }),
            freed: Condvar::new(),
        }
    }

    /// All the bytes there are.
    pub(super) fn total(&self) -> u64 {
        self.bytes
    }

    fn lock(&self) -> MutexGuard<'_, Used> {
        self.used.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait_until(&self, mut ok: impl FnMut(&Used) -> bool) -> MutexGuard<'_, Used> {
        let mut used = self.lock();
        while !ok(&used) {
            used = self
                .freed
                .wait(used)
                .unwrap_or_else(PoisonError::into_inner);
        }
        used
    }

    /// A slot, waiting until one is free.
    pub(super) fn slot(&self) -> Slot<'_> {
        let mut used = self.wait_until(|u| u.slots < self.slots);
        used.slots += 1;
        Slot {
            budget: self,
            bytes: 0,
        }
    }

    /// A slot if one is free now.
    #[cfg(test)]
    fn try_slot(&self) -> Option<Slot<'_>> {
        let mut used = self.lock();
        (used.slots < self.slots).then(|| {
            used.slots += 1;
            Slot {
                budget: self,
                bytes: 0,
            }
        })
    }
}

impl Slot<'_> {
    /// Reserve `bytes` (at most the whole budget) for this slot, waiting until they are free.
    /// Once per slot: a slot that holds bytes never waits.
    pub(super) fn reserve(&mut self, bytes: u64) {
        if self.bytes > 0 {
            return;
        }
        let budget = self.budget;
        let bytes = bytes.min(budget.bytes);
        let mut used = budget.wait_until(|u| u.bytes + bytes <= budget.bytes);
        used.bytes += bytes;
        self.bytes = bytes;
    }

    /// `reserve` if the bytes are free now.
    #[cfg(test)]
    fn try_reserve(&mut self, bytes: u64) -> bool {
        let bytes = bytes.min(self.budget.bytes);
        let mut used = self.budget.lock();
        if self.bytes > 0 || used.bytes + bytes > self.budget.bytes {
            return false;
        }
        used.bytes += bytes;
        self.bytes = bytes;
        true
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut used = self.budget.lock();
        used.bytes -= self.bytes;
        used.slots -= 1;
        drop(used);
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::io::Cursor;

    use image::DynamicImage;

    use super::*;

    fn cost(format: ImageFormat, encoded: &[u8], w: u32, h: u32, per_pixel: u64) -> u64 {
        let decoded = u64::from(w) * u64::from(h) * per_pixel;
        decode_cost(format, encoded, (w, h), decoded, 2048)
    }

    #[test]
    fn the_decode_cost_counts_the_pixels_the_codec_and_the_scaling() {
        // 40 MP of RGB: the pixels, a little of the codec, and a small scaled copy (averaged:
        // no float rows).
        let c = cost(ImageFormat::Png, b"", 8000, 5000, 3);
        assert_eq!(c, 120_000_000 + 7_500_000 + 2048 * 1280 * 3);
        assert!(c <= DECODE_BUDGET_BYTES);
        let baseline = jpeg(false);
        assert!(cost(ImageFormat::Jpeg, &baseline, 8000, 5000, 3) <= DECODE_BUDGET_BYTES);
        let lossy = b"RIFF\0\0\0\0WEBPVP8 ";
        assert!(cost(ImageFormat::WebP, lossy, 8000, 5000, 3) <= DECODE_BUDGET_BYTES);
        // A progressive JPEG keeps its coefficients too, a lossless WebP its ARGB pixels: 40 MP
        // of either is over the budget, 20 MP is not.
        let progressive = jpeg(true);
        assert!(cost(ImageFormat::Jpeg, &progressive, 8000, 5000, 3) > DECODE_BUDGET_BYTES);
        assert!(cost(ImageFormat::Jpeg, &progressive, 5000, 4000, 3) <= DECODE_BUDGET_BYTES);
        let lossless = b"RIFF\0\0\0\0WEBPVP8L";
        assert!(cost(ImageFormat::WebP, lossless, 8000, 5000, 3) > DECODE_BUDGET_BYTES);
        assert!(cost(ImageFormat::WebP, lossless, 5000, 4000, 4) <= DECODE_BUDGET_BYTES);
        // Scaling by less than half: Lanczos's float rows.
        assert_eq!(
            cost(ImageFormat::Png, b"", 3000, 3000, 3),
            27_000_000 + 27_000_000 / 16 + 3000 * 2048 * 16 + 2048 * 2048 * 3
        );
        // 16 bits a channel doubles the pixels.
        assert!(cost(ImageFormat::Png, b"", 8000, 5000, 6) > DECODE_BUDGET_BYTES);
    }

    fn jpeg(progressive: bool) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(16, 8, image::Rgb([9, 9, 9]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        if progressive {
            // The encoder writes a baseline frame (SOF0): mark it progressive (SOF2).
            let at = out.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
            out[at + 1] = 0xC2;
        }
        out
    }

    #[test]
    fn a_jpeg_is_told_progressive_by_its_frame_header_and_taken_to_be_when_it_cannot_be_told() {
        assert!(!jpeg_progressive(&jpeg(false)));
        assert!(jpeg_progressive(&jpeg(true)));
        for unclear in [
            &b"\xFF\xD8"[..],
            b"\xFF\xD8\xFF\xE0\x00",
            b"\xFF\xD8\xFF\xDA\x00\x02",
            b"\xFF\xD8\xFF\xE0\x00\x02\x00",
            b"\xFF\xD8\xFF\xE0\xFF\xFF",
        ] {
            assert!(jpeg_progressive(unclear), "{unclear:?}");
        }
    }

    #[test]
    fn two_slots_at_most_and_the_bytes_shared_between_them() {
        let budget = Budget::new(100, 2);
        let mut a = budget.try_slot().unwrap();
        let mut b = budget.try_slot().unwrap();
        assert!(budget.try_slot().is_none(), "two at once at most");
        assert!(a.try_reserve(70));
        assert!(!b.try_reserve(40), "70 + 40 is over 100");
        assert!(b.try_reserve(30));
        assert!(!a.try_reserve(1), "once per slot");
        drop(a);
        assert_eq!(
            *budget.lock(),
            Used {
                bytes: 30,
                slots: 1
            }
        );
        // More than the budget takes all of it, once the rest is free.
        let mut c = budget.try_slot().unwrap();
        assert!(!c.try_reserve(1_000));
        drop(b);
        assert!(c.try_reserve(1_000));
        assert_eq!(c.bytes, 100);
        drop(c);
        assert_eq!(*budget.lock(), Used::default());
    }

    #[test]
    fn a_waiting_slot_gets_its_bytes_when_another_gives_them_back() {
        let budget = Budget::new(100, 2);
        let mut held = budget.slot();
        held.reserve(80);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let mut slot = budget.slot();
                slot.reserve(60);
                slot.bytes
            });
            drop(held);
            assert_eq!(waiter.join().unwrap(), 60);
        });
        assert_eq!(*budget.lock(), Used::default());
    }
}

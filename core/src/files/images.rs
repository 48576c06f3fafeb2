//! Images for Codex (`codex_query`'s `images`): a PNG, JPEG, WebP or GIF file of the workspace,
//! or a `data:image/…;base64,` URL, checked by its content (not its name), and scaled down when
//! it is over the size caps, as a data URL the backend takes as `input_image`.

use std::io::{Cursor, Read};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use serde::Serialize;

use super::Project;

mod budget;

pub use budget::DECODE_BUDGET_BYTES;

/// The most pixels (width × height, read from the header) of an image that is decoded to be
/// scaled down: a larger one is refused before any decoding (a small file can claim a huge
/// canvas: 11000×11000 pixels compress to a few hundred KB).
pub const MAX_DECODE_PIXELS: u64 = 40_000_000;

/// The caps of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Bytes of the image sent (encoded); a larger one is scaled down until it fits.
    pub max_bytes: usize,
    /// The longest side sent, in pixels (what the model looks at in detail).
    pub max_side: u32,
    /// Bytes read from a file or a data URL at most; a larger input is refused unread.
    pub max_input_bytes: usize,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 4 * 1024 * 1024,
            max_side: 2048,
            max_input_bytes: 32 * 1024 * 1024,
        }
    }
}

/// An image that was sent, as the result lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SentImage {
    /// The path as given (relative to the workspace), or `data URL #n`.
    pub source: String,
    /// `image/png`, `image/jpeg`, `image/webp`, `image/gif`.
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// Bytes sent (before base64).
    pub bytes: usize,
    /// Scaled down (and re-encoded) to fit the caps.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub downscaled: bool,
}

/// One image, ready to send: its data URL and what the result says of it.
#[derive(Debug, Clone)]
pub struct Image {
    pub data_url: String,
    pub sent: SentImage,
}

fn mime_of(f: ImageFormat) -> Option<&'static str> {
    match f {
        ImageFormat::Png => Some("image/png"),
        ImageFormat::Jpeg => Some("image/jpeg"),
        ImageFormat::WebP => Some("image/webp"),
        ImageFormat::Gif => Some("image/gif"),
        _ => None,
    }
}

/// How the result names image `n` given as `given`: its path, or `data URL #n`.
/// A name with a secret in it (`sk-proj-….png`) is named with the secret replaced: the name
/// goes into the prompt.
pub fn source_name(given: &str, n: usize) -> String {
    if given.trim_start().starts_with("data:") {
        format!("data URL #{n}")
    } else {
        super::redact(given.trim()).0
    }
}

/// The image `given` names (a path of the workspace, or a data URL; `n`: its place among the
/// images, for naming a data URL), or why it cannot be sent.
pub fn load(ws: &Project, given: &str, n: usize, limits: &ImageLimits) -> Result<Image, String> {
    // Two images at a time in this process, from the reading on.
    let mut slot = budget::WORK.slot();
    let given = given.trim();
    let (source, bytes) = if let Some(rest) = given.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or("a data URL without its data (data:image/png;base64,…)")?;
        if !meta.ends_with(";base64") {
            return Err("a data URL must be base64 (data:image/png;base64,…)".into());
        }
        if data.len() / 4 * 3 > limits.max_input_bytes {
            return Err(format!(
                "larger than {} MB",
                limits.max_input_bytes / (1024 * 1024)
            ));
        }
        let bytes = STANDARD
            .decode(data.trim())
            .map_err(|e| format!("a data URL that is not valid base64: {e}"))?;
        (source_name(given, n), bytes)
    } else {
        let path = ws.resolve(Path::new(given))?;
        if !path.is_file() {
            // A folder, a FIFO or a device (a read could block for good).
            return Err("not a regular file".into());
        }
        if let Some(why) = super::secret_by_name(Path::new(given)) {
            return Err(format!("{why}: never sent"));
        }
        let mut bytes = Vec::new();
        let cap = u64::try_from(limits.max_input_bytes).unwrap_or(u64::MAX);
        std::fs::File::open(&path)
            .and_then(|f| f.take(cap.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(|e| format!("cannot be read: {e}"))?;
        if bytes.len() > limits.max_input_bytes {
            return Err(format!(
                "larger than {} MB",
                limits.max_input_bytes / (1024 * 1024)
            ));
        }
        (source_name(given, n), bytes)
    };
    prepare(source, bytes, limits, &mut slot)
}

/// Check `bytes` by their content and fit them to the caps.
fn prepare(
    source: String,
    bytes: Vec<u8>,
    limits: &ImageLimits,
    slot: &mut budget::Slot<'_>,
) -> Result<Image, String> {
    let format = image::guess_format(&bytes)
        .map_err(|_| "not an image (PNG, JPEG, WebP or GIF)".to_owned())?;
    let mime = mime_of(format)
        .ok_or_else(|| format!("a {format:?} image: only PNG, JPEG, WebP and GIF are sent"))?;
    let mut reader = ImageReader::with_format(Cursor::new(&bytes), format);
    let mut decode_limits = image::Limits::default();
    decode_limits.max_image_width = Some(20_000);
    decode_limits.max_image_height = Some(20_000);
    decode_limits.max_alloc = Some(DECODE_BUDGET_BYTES);
    reader.limits(decode_limits.clone());
    // The header only: the size, and the bytes the decoded pixels would take.
    let (width, height, decoded_bytes) = reader
        .into_decoder()
        .map(|d| {
            let (w, h) = d.dimensions();
            (w, h, d.total_bytes())
        })
        .map_err(|e| format!("an image that cannot be read: {e}"))?;
    if bytes.len() <= limits.max_bytes && width.max(height) <= limits.max_side {
        return Ok(Image {
            data_url: format!("data:{mime};base64,{}", STANDARD.encode(&bytes)),
            sent: SentImage {
                source,
                mime,
                width,
                height,
                bytes: bytes.len(),
                downscaled: false,
            },
        });
    }
    // Over a cap: decode, scale to the longest side allowed, encode again (a photo as JPEG, the
    // rest, screenshots and drawings, as PNG), halving the size until it fits. Never for an
    // image whose pixels alone would take hundreds of MB, and within the process's budget.
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_DECODE_PIXELS {
        return Err(format!(
            "{width}×{height} pixels ({} megapixels): over the {} megapixels an image may have to be scaled down, so it was not decoded; send a smaller or cropped image",
            pixels.div_ceil(1_000_000),
            MAX_DECODE_PIXELS / 1_000_000
        ));
    }
    let side = limits.max_side.min(width.max(height));
    let cost = budget::decode_cost(format, &bytes, (width, height), decoded_bytes, side)
        + bytes.len() as u64;
    if cost > budget::WORK.total() {
        return Err(format!(
            "{width}×{height} pixels would need {} MB of memory to decode and scale down, over the {} MB allowed; send a smaller image",
            cost.div_ceil(1_000_000),
            budget::WORK.total() / 1_000_000
        ));
    }
    // Decoded only when the other images at work leave room for it.
    slot.reserve(cost);
    let mut reader = ImageReader::with_format(Cursor::new(&bytes), format);
    reader.limits(decode_limits);
    let decoded = reader
        .decode()
        .map_err(|e| format!("an image that cannot be decoded: {e}"))?;
    let photo = matches!(format, ImageFormat::Jpeg | ImageFormat::WebP);
    // The decoded pixels are let go once scaled; each smaller try scales the last one.
    let mut scaled = scale(&decoded, side);
    drop(decoded);
    let mut side = side;
    loop {
        let (out, mime) = encode(&scaled, photo)?;
        if out.len() <= limits.max_bytes {
            return Ok(Image {
                data_url: format!("data:{mime};base64,{}", STANDARD.encode(&out)),
                sent: SentImage {
                    source,
                    mime,
                    width: scaled.width(),
                    height: scaled.height(),
                    bytes: out.len(),
                    downscaled: true,
                },
            });
        }
        if side <= 64 {
            return Err("cannot be made small enough to send".into());
        }
        side /= 2;
        scaled = scale(&scaled, side);
    }
}

/// `img` with its longest side `side`: an average of the source pixels under each one when that
/// is at least halving it (no large float buffer), else Lanczos.
fn scale(img: &DynamicImage, side: u32) -> DynamicImage {
    if img.width().max(img.height()) >= side.saturating_mul(2) {
        img.thumbnail(side, side)
    } else {
        img.resize(side, side, image::imageops::FilterType::Lanczos3)
    }
}

fn encode(img: &DynamicImage, photo: bool) -> Result<(Vec<u8>, &'static str), String> {
    let mut out = Vec::new();
    if photo {
        let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        rgb.write_with_encoder(enc)
            .map_err(|e| format!("cannot be encoded again: {e}"))?;
        Ok((out, "image/jpeg"))
    } else {
        img.write_to(Cursor::new(&mut out), ImageFormat::Png)
            .map_err(|e| format!("cannot be encoded again: {e}"))?;
        Ok((out, "image/png"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn png(w: u32, h: u32, noisy: bool) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            if noisy {
                // A pattern PNG cannot squeeze much.
                let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) as u8;
                image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(y as u8)])
            } else {
                image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
            }
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    fn ws_with(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Project) {
        let d = tempfile::tempdir().unwrap();
        for (p, b) in files {
            std::fs::write(d.path().join(p), b).unwrap();
        }
        let w = Project::new([d.path().to_path_buf()], &[]);
        (d, w)
    }

    #[test]
    fn a_small_image_goes_as_it_is_named_by_its_content() {
        let bytes = png(40, 20, false);
        // A PNG under a .jpg name: the content decides.
        let (_d, w) = ws_with(&[("shot.jpg", &bytes)]);
        let img = load(&w, "shot.jpg", 1, &ImageLimits::default()).unwrap();
        assert_eq!(
            img.sent,
            SentImage {
                source: "shot.jpg".into(),
                mime: "image/png",
                width: 40,
                height: 20,
                bytes: bytes.len(),
                downscaled: false
            }
        );
        assert_eq!(
            img.data_url,
            format!("data:image/png;base64,{}", STANDARD.encode(&bytes))
        );
        // The same as a data URL.
        let url = format!("data:image/png;base64,{}", STANDARD.encode(&bytes));
        let img = load(&w, &url, 2, &ImageLimits::default()).unwrap();
        assert_eq!(img.sent.source, "data URL #2");
    }

    #[test]
    fn an_image_over_the_caps_is_scaled_down_until_it_fits() {
        // Small figures: the resize is slow in an unoptimised test build.
        let big = png(600, 300, false);
        let (_d, w) = ws_with(&[("big.png", &big)]);
        let sides = ImageLimits {
            max_side: 256,
            ..ImageLimits::default()
        };
        let img = load(&w, "big.png", 1, &sides).unwrap();
        assert!(img.sent.downscaled);
        assert_eq!((img.sent.width, img.sent.height), (256, 128));
        let noisy = png(300, 300, true);
        let limits = ImageLimits {
            max_bytes: 60 * 1024,
            ..ImageLimits::default()
        };
        assert!(
            noisy.len() > limits.max_bytes,
            "the fixture must be over the cap"
        );
        let (_d, w) = ws_with(&[("noisy.png", &noisy)]);
        let img = load(&w, "noisy.png", 1, &limits).unwrap();
        assert!(
            img.sent.downscaled && img.sent.bytes <= limits.max_bytes,
            "{:?}",
            img.sent
        );
        assert!(img.sent.width < 300);
    }

    /// A PNG claiming `w`×`h` 8-bit RGB pixels whose pixel data is a few bytes of nothing: only
    /// the header is ever read of an image over the pixel budget.
    fn png_header(w: u32, h: u32) -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, body: &[u8]) {
            out.extend_from_slice(&(body.len() as u32 - 4).to_be_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(&crc32(body).to_be_bytes());
        }
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut out, &ihdr);
        chunk(&mut out, b"IDAT\x78\x01\x00\x00");
        chunk(&mut out, b"IEND");
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn an_image_over_the_pixel_budget_is_refused_by_its_header_with_its_size_and_the_limit() {
        let (_d, w) = ws_with(&[("bomb.png", &png_header(11_000, 11_000))]);
        let err = load(&w, "bomb.png", 1, &ImageLimits::default()).unwrap_err();
        assert_eq!(
            err,
            "11000×11000 pixels (121 megapixels): over the 40 megapixels an image may have to be scaled down, so it was not decoded; send a smaller or cropped image"
        );
        // Just over the budget is refused too; the header's own limits still stand beyond it.
        let err = load_bytes(png_header(8000, 5001)).unwrap_err();
        assert!(err.contains("over the 40 megapixels"), "{err}");
        let err = load_bytes(png_header(30_000, 10)).unwrap_err();
        assert!(err.contains("cannot be read"), "{err}");
    }

    fn load_bytes(bytes: Vec<u8>) -> Result<Image, String> {
        prepare(
            "x.png".into(),
            bytes,
            &ImageLimits::default(),
            &mut budget::WORK.slot(),
        )
    }

    #[test]
    fn what_is_no_image_or_outside_the_workspace_is_refused_with_the_reason() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("x.png"), png(4, 4, false)).unwrap();
        let (_d, w) = ws_with(&[
            ("notes.txt", b"hello"),
            ("a.bmp", b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0"),
        ]);
        let l = ImageLimits::default();
        assert_eq!(
            load(&w, "notes.txt", 1, &l).unwrap_err(),
            "not an image (PNG, JPEG, WebP or GIF)"
        );
        assert!(
            load(&w, "a.bmp", 1, &l)
                .unwrap_err()
                .contains("only PNG, JPEG, WebP and GIF")
        );
        assert!(
            load(&w, outside.path().join("x.png").to_str().unwrap(), 1, &l)
                .unwrap_err()
                .starts_with("outside the workspace")
        );
        assert_eq!(
            load(&w, "missing.png", 1, &l).unwrap_err(),
            "not found in the workspace"
        );
        assert!(
            load(&w, "data:image/png;base64,@@@", 1, &l)
                .unwrap_err()
                .contains("not valid base64")
        );
        assert!(
            load(&w, "data:image/png,raw", 1, &l)
                .unwrap_err()
                .contains("must be base64")
        );
    }
}

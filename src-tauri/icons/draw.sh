#!/usr/bin/env bash
# Draws the tray icons (four states) and the app icon with ImageMagick. The PNGs are committed;
# run this again only to change them. Each is drawn on a 256 px canvas (a 32-unit grid × 8) and
# scaled down, so the edges stay crisp at 16–64 px. Colours are mid-tones with a darker rim, readable
# on light and dark panels alike.
# Usage: src-tauri/icons/draw.sh
set -euo pipefail
cd "$(dirname "$0")"

s=8 # grid unit → pixels on the 256 px canvas
px() { echo "$(( $1 * s ))"; }

draw() { # name, draw commands (in 256 px space)
  local name=$1; shift
  convert -size 256x256 xc:none -antialias "$@" "tmp-$name.png"
  for size in 32 64; do
    convert "tmp-$name.png" -filter Triangle -resize "${size}x${size}" -strip "$name-$size.png"
  done
  rm -f "tmp-$name.png"
}

c=$(px 16) r=$(px 14) edge=$(( $(px 16) + $(px 14) ))

# Signed in: a green disc with a white check.
draw tray-signed-in \
  -fill '#1f9d55' -stroke '#0b5d2e' -strokewidth 10 -draw "circle $c,$c $c,$(( c - r ))" \
  -fill none -stroke white -strokewidth 30 -draw "stroke-linecap round stroke-linejoin round polyline $(px 9),$(px 16) $(px 14),$(px 21) $(px 23),$(px 11)"

# Refreshing or expiring soon: an amber disc with a white clock.
draw tray-refreshing \
  -fill '#e59a0b' -stroke '#8a5a00' -strokewidth 10 -draw "circle $c,$c $c,$(( c - r ))" \
  -fill none -stroke white -strokewidth 26 -draw "stroke-linecap round stroke-linejoin round polyline $(px 16),$(px 8) $(px 16),$(px 16) $(px 21),$(px 19)"

# Needs attention (session expired, keychain problem): a red disc with a white "!".
draw tray-attention \
  -fill '#d93025' -stroke '#7f1d17' -strokewidth 10 -draw "circle $c,$c $c,$(( c - r ))" \
  -fill none -stroke white -strokewidth 32 -draw "stroke-linecap round line $(px 16),$(px 8) $(px 16),$(px 17)" \
  -fill white -stroke none -draw "circle $(px 16),$(px 23) $(px 16),$(( $(px 23) - 19 ))"

# Signed out: a grey ring with a grey dot (hollow: nothing is held).
draw tray-signed-out \
  -fill none -stroke '#80868f' -strokewidth 30 -draw "circle $c,$c $c,$(( c - $(px 12) ))" \
  -fill '#80868f' -stroke none -draw "circle $c,$c $c,$(( c - $(px 4) ))"

# The app icon (window, autostart entry, desktop entry): an indigo rounded square with the signed-in check.
convert -size 256x256 xc:none -antialias \
  -fill '#3b5bdb' -stroke none -draw "roundrectangle 8,8 247,247 52,52" \
  -fill none -stroke white -strokewidth 26 -draw "circle 128,128 128,48" \
  -fill white -stroke none -draw "circle 128,128 128,100" \
  -strip icon.png
convert icon.png -filter Triangle -resize 32x32 -strip 32x32.png
convert icon.png -filter Triangle -resize 128x128 -strip 128x128.png
# The other sizes of the hicolor theme (/usr/share/icons/hicolor/index.theme), so the packages carry
# an icon at every size a desktop looks up; 512 px is drawn on a 512 px canvas, not scaled up.
for size in 16 22 24 36 48 64 72 96 192; do
  convert icon.png -filter Triangle -resize "${size}x${size}" -strip "${size}x${size}.png"
done
convert -size 512x512 xc:none -antialias \
  -fill '#3b5bdb' -stroke none -draw "roundrectangle 16,16 495,495 104,104" \
  -fill none -stroke white -strokewidth 52 -draw "circle 256,256 256,96" \
  -fill white -stroke none -draw "circle 256,256 256,200" \
  -strip 512x512.png
echo "drew $(ls ./*.png | wc -l) icons" >&2

package render

import (
	"image"

	"github.com/hajimehoshi/ebiten/v2"
)

// atlas is the one texture every textured quad of a frame comes from: digit glyphs, labels and
// the baked sprites (targets, envelopes, the lifetime ring, theme images). It is unmanaged (its own
// texture, not packed into Ebiten's atlases), so the shader samples it at the coordinates given.
// Rectangles are handed out on shelves; what is made once per layout (static) comes first, then
// labels (dynamic), which are all dropped when their part is full and made again as needed.
type atlas struct {
	img        *ebiten.Image
	size       int
	x, y, rowH int
	dynY       int // where the dynamic part starts
}

func newAtlas(size int) *atlas {
	return &atlas{img: newImage(size, size), size: size}
}

// atlasSize is the atlas's side for a wall image w x h: larger walls draw larger text and sprites
// (an 8K wall takes a 8192 x 8192 atlas, 256 MiB of GPU memory).
func atlasSize(w, h int) int {
	switch m := max(w, 2*h); {
	case m <= 2400:
		return 2048
	case m <= 4800:
		return 4096
	}
	return 8192
}

// maxAtlasText is the largest font size text is rendered at in an atlas of that size; larger text
// is drawn from it scaled up.
func maxAtlasText(size int) float64 { return float64(size) / 5 }

// alloc returns a free w x h rectangle with a clear pixel around it, or false when the atlas is
// full.
func (at *atlas) alloc(w, h int) (image.Rectangle, bool) {
	w, h = w+2, h+2
	if w > at.size {
		return image.Rectangle{}, false
	}
	if at.x+w > at.size {
		at.y += at.rowH
		at.x, at.rowH = 0, 0
	}
	if at.y+h > at.size {
		return image.Rectangle{}, false
	}
	r := image.Rect(at.x+1, at.y+1, at.x+w-1, at.y+h-1)
	at.x += w
	at.rowH = max(at.rowH, h)
	return r, true
}

// upload copies img into a fresh rectangle of the atlas and returns it as a sprite whose content
// radius is unit pixels; a sprite that is not ok when the atlas is full.
func (at *atlas) upload(img image.Image, unit float64) sprite {
	b := img.Bounds()
	r, ok := at.alloc(b.Dx(), b.Dy())
	if !ok {
		return sprite{}
	}
	tex := newImageFromImage(img)
	defer tex.Deallocate()
	var op ebiten.DrawImageOptions
	op.GeoM.Translate(float64(r.Min.X), float64(r.Min.Y))
	at.img.DrawImage(tex, &op)
	return sprite{r: r, hw: float64(b.Dx()) / 2, hh: float64(b.Dy()) / 2, unit: unit, ok: true}
}

// sub returns the atlas image cut to r, to draw into.
func (at *atlas) sub(r image.Rectangle) *ebiten.Image {
	return at.img.SubImage(r).(*ebiten.Image)
}

// endStatic closes the static part: what is allocated from now on is dynamic.
func (at *atlas) endStatic() {
	at.y += at.rowH
	at.x, at.rowH = 0, 0
	at.dynY = at.y
}

// resetDynamic clears the dynamic part for reuse.
func (at *atlas) resetDynamic() {
	if at.dynY < at.size {
		at.sub(image.Rect(0, at.dynY, at.size, at.size)).Clear()
	}
	at.x, at.y, at.rowH = 0, at.dynY, 0
}

// reset clears everything.
func (at *atlas) reset() {
	at.img.Clear()
	at.x, at.y, at.rowH, at.dynY = 0, 0, 0, 0
}

// newImage and newImageFromImage make images outside Ebiten's shared atlases (unmanaged), at the
// origin of their own texture. Where an image sits in a shared atlas depends on what was allocated
// before it, and that shifts the float arithmetic of sampling and rasterising by a last bit: the
// same scene would not give the same pixels in every run (screenshots must).
func newImage(w, h int) *ebiten.Image {
	return ebiten.NewImageWithOptions(image.Rect(0, 0, w, h), &ebiten.NewImageOptions{Unmanaged: true})
}

func newImageFromImage(src image.Image) *ebiten.Image {
	return ebiten.NewImageFromImageWithOptions(src, &ebiten.NewImageFromImageOptions{Unmanaged: true})
}

package render

import (
	"bytes"
	"fmt"
	"image"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"

	"tapwall/assets"
)

// Text on the wall never goes through the text package per frame. A line that stays (a name, a
// rank, WINNER) is rendered once into the atlas, its soft shadow baked in, and cached by slot
// size and string; numbers that change every frame (a score counting up, "+31", the timer) are
// drawn glyph by glyph from digit cells rendered into the atlas once per layout. Faces are made
// once per size; numbers are formatted with strconv.AppendInt into a reused buffer.

// fonts holds the wall's typefaces and the faces made from them.
type fonts struct {
	src   [numFonts]*text.GoTextFaceSource
	mono  *text.GoTextFaceSource
	faces map[faceKey]*text.GoTextFace
	caps  [numFonts]float64
}

type faceKey struct {
	f    Font
	size float64
}

func newFonts(th *assets.Theme) (*fonts, error) {
	fs := &fonts{faces: map[faceKey]*text.GoTextFace{}}
	load := func(b []byte) (*text.GoTextFaceSource, error) { return text.NewGoTextFaceSource(bytes.NewReader(b)) }
	face, what := assets.FontWall, "the built-in wall font"
	if th != nil && th.Font != nil {
		face, what = th.Font, "theme.font"
	}
	wall, err := load(face)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	for f := range fs.src { // one typeface for every role
		fs.src[f] = wall
	}
	if fs.mono, err = load(assets.FontMono); err != nil {
		return nil, fmt.Errorf("the built-in mono font: %w", err)
	}
	for f := Font(0); f < numFonts; f++ {
		fs.caps[f] = fs.face(f, 100).Metrics().CapHeight / 100
	}
	return fs, nil
}

// face returns the face of f at size (rounded to a quarter pixel, so a layout makes few faces).
func (fs *fonts) face(f Font, size float64) *text.GoTextFace {
	size = math.Max(1, math.Round(size*4)/4)
	k := faceKey{f, size}
	if fc, ok := fs.faces[k]; ok {
		return fc
	}
	fc := &text.GoTextFace{Source: fs.src[f], Size: size}
	fs.faces[k] = fc
	return fc
}

// Measure is the fonts' Measurer.
func (fs *fonts) Measure(f Font, size float64, s string) (w, asc, desc float64) {
	fc := fs.face(f, size)
	m := fc.Metrics()
	return text.Advance(s, fc), m.HAscent, m.HDescent
}

// CapHeight is the cap height of f as a fraction of its size.
func (fs *fonts) CapHeight(f Font) float64 { return fs.caps[f] }

// bakeText draws s with its line's top-left at (x, y) in white over a soft shadow that falls a
// little below it; it draws only the shadow when shadowOnly is set, only the glyphs when noShadow
// is. Every copy lands on whole pixels: glyph images are sampled nearest, so a fractional offset
// would round differently depending on where Ebiten packed them, and the same text would not give
// the same pixels in every run.
func bakeText(dst *ebiten.Image, s string, face *text.GoTextFace, x, y, pad float64, shadow, glyphs bool) {
	var op text.DrawOptions
	x, y = math.Round(x), math.Round(y)
	drop := math.Round(math.Min(face.Size*0.035, 4))
	if shadow {
		for ring := 1; ring <= 2; ring++ {
			rad := math.Min(pad*0.36, 3) * float64(ring)
			for k := 0; k < 8; k++ {
				a := float64(k) * math.Pi / 4
				op.GeoM.Reset()
				op.GeoM.Translate(x+math.Round(rad*math.Cos(a)), y+drop+math.Round(rad*math.Sin(a)))
				op.ColorScale.Reset()
				op.ColorScale.Scale(0, 0, 0, 0.16)
				text.Draw(dst, s, face, &op)
			}
		}
		op.GeoM.Reset()
		op.GeoM.Translate(x, y+math.Round(drop*0.6))
		op.ColorScale.Reset()
		op.ColorScale.Scale(0, 0, 0, 0.5)
		text.Draw(dst, s, face, &op)
	}
	if glyphs {
		op.GeoM.Reset()
		op.GeoM.Translate(x, y)
		op.ColorScale.Reset()
		text.Draw(dst, s, face, &op)
	}
}

// shadowPad is the room a baked shadow takes around text of size: it scales with small text and
// stays tight around large text (a wide smear of a few copies would show as ghosts).
func shadowPad(size float64) float64 { return math.Ceil(math.Min(size*0.14, 10)) }

// label is a line of text rendered into the atlas: white glyphs over a soft black shadow, pad
// pixels of shadow around the line box, at scale k of its drawn size (1 unless the atlas caps it).
type label struct {
	r   image.Rectangle
	t   Text // as fitted into its slot, relative to the slot's box at (0, 0)
	pad float64
	k   float64
}

type labelKey struct {
	slot Slot
	s    string
}

// labels caches labels by slot size and string.
type labels struct {
	fs     *fonts
	at     *atlas
	b      *batch
	dst    *ebiten.Image // where the batch draws (flushed before the atlas is reused)
	m      map[labelKey]*label
	resets int // times the labels' part of the atlas was started again
}

// get returns s fitted into the slot and rendered; the first call for a slot's size and a string
// renders it. Slots of the same size share their labels: draw places one at its slot's box.
func (ls *labels) get(sl Slot, s string) *label {
	sl.Box = Rect{0, 0, sl.Box.W(), sl.Box.H()}
	k := labelKey{sl, s}
	if l, ok := ls.m[k]; ok {
		return l
	}
	t := sl.Fit(ls.fs, s)
	l := &label{t: t, k: 1}
	size := t.Size
	if mx := maxAtlasText(ls.at.size); size > mx {
		l.k = mx / size
		size = mx
	}
	face := ls.fs.face(sl.Font, size)
	m := face.Metrics()
	l.pad = shadowPad(size)
	w := int(math.Ceil(text.Advance(t.S, face) + 2*l.pad))
	h := int(math.Ceil(m.HAscent + m.HDescent + 2*l.pad))
	r, ok := ls.at.alloc(w, h)
	if !ok {
		// The labels' part of the atlas is full: start it again. What the batch already holds
		// samples the old labels, so it is drawn first.
		ls.b.flush(ls.dst)
		ls.at.resetDynamic()
		ls.drop()
		ls.resets++
		if r, ok = ls.at.alloc(w, h); !ok {
			return l // too large for any atlas: drawn as nothing
		}
	}
	l.r = r
	bakeText(ls.at.img, t.S, face, float64(r.Min.X)+l.pad, float64(r.Min.Y)+l.pad, l.pad, true, true)
	ls.m[k] = l
	return l
}

// drop forgets every label (a new layout clears the atlas).
func (ls *labels) drop() { clear(ls.m) }

// draw adds the label at its fitted place in a slot whose box's top-left is (x, y), scaled by k
// about the centre of its line box, tinted by c (the shadow stays dark).
func (l *label) draw(b *batch, dst *ebiten.Image, x, y, k float64, c rgba) {
	if l.r.Empty() {
		return
	}
	bt := l.t.Bounds
	cx, cy := (bt.X0+bt.X1)/2+x, (bt.Y0+bt.Y1)/2+y
	s := k / l.k
	w, h := float64(l.r.Dx())*s, float64(l.r.Dy())*s
	// The atlas rectangle is the line box plus pad on every side, centred on the line box's centre.
	x0, y0 := cx-w/2, cy-h/2
	if s == 1 { // at its own size, on whole pixels: as crisp as it was rendered
		x0, y0 = math.Round(x0), math.Round(y0)
	}
	b.image(dst, l.r, x0, y0, x0+w, y0+h, c)
}

// digitChars are the characters a digit set holds.
const digitChars = "0123456789+-:"

// digits are the glyphs of numbers at one size: each character's shadow and glyph in atlas cells,
// so a number draws every shadow before any glyph.
type digits struct {
	size      float64 // the size drawn at scale 1
	k         float64 // atlas size / drawn size
	asc, line float64 // at the drawn size
	cap       float64 // a digit's height at the drawn size
	pad       float64 // atlas pixels
	cells     [len(digitChars)]struct {
		body, shadow image.Rectangle
		adv          float64 // drawn size
	}
}

func digitIndex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c == '+':
		return 10
	case c == '-':
		return 11
	case c == ':':
		return 12
	}
	return -1
}

// newDigits renders the digits of font f at size into the atlas.
func newDigits(fs *fonts, at *atlas, f Font, size float64) *digits {
	d := &digits{size: size, k: 1}
	rs := size
	if mx := maxAtlasText(at.size); rs > mx {
		rs = mx
	}
	face := fs.face(f, rs)
	d.k = face.Size / size
	m := face.Metrics()
	d.asc, d.line, d.cap = m.HAscent/d.k, (m.HAscent+m.HDescent)/d.k, m.CapHeight/d.k
	d.pad = shadowPad(face.Size)
	cellH := int(math.Ceil(m.HAscent + m.HDescent + 2*d.pad))
	for i := 0; i < len(digitChars); i++ {
		ch := digitChars[i : i+1]
		adv := text.Advance(ch, face)
		c := &d.cells[i]
		c.adv = adv / d.k
		w := int(math.Ceil(adv + 2*d.pad))
		c.shadow, _ = at.alloc(w, cellH)
		c.body, _ = at.alloc(w, cellH)
		if !c.body.Empty() {
			bakeText(at.img, ch, face, float64(c.body.Min.X)+d.pad, float64(c.body.Min.Y)+d.pad, d.pad, false, true)
		}
		if !c.shadow.Empty() {
			bakeText(at.img, ch, face, float64(c.shadow.Min.X)+d.pad, float64(c.shadow.Min.Y)+d.pad, d.pad, true, false)
		}
	}
	return d
}

// width is the advance of s (digits, '+', '-', ':') at the drawn size.
func (d *digits) width(s []byte) float64 {
	w := 0.0
	for _, c := range s {
		if i := digitIndex(c); i >= 0 {
			w += d.cells[i].adv
		}
	}
	return w
}

// draw adds s starting at x on baseline base, scaled by k: every glyph's shadow at c's alpha, then
// the glyphs tinted by c.
func (d *digits) draw(b *batch, dst *ebiten.Image, s []byte, x, base, k float64, c rgba) {
	s2 := k / d.k // destination pixels per atlas pixel
	y := base - d.asc*k
	for row := 0; row < 2; row++ {
		pen := x
		col := black.with(float64(c.A))
		if row == 1 {
			col = c
		}
		for _, ch := range s {
			i := digitIndex(ch)
			if i < 0 {
				continue
			}
			cl := &d.cells[i]
			r := cl.shadow
			if row == 1 {
				r = cl.body
			}
			x0, y0 := pen-d.pad*s2, y-d.pad*s2
			if s2 == 1 {
				x0, y0 = math.Round(x0), math.Round(y0)
			}
			b.image(dst, r, x0, y0, x0+float64(r.Dx())*s2, y0+float64(r.Dy())*s2, col)
			pen += cl.adv * k
		}
	}
}

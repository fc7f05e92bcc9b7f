package render

import (
	"math"

	"tapwall/game"
)

// The layout says where every piece of text and every bar of the wall goes, in pixels, for a wall
// drawn into a w x h image. It is computed without drawing (a Measurer measures text), once per
// size, so a test can check that every lane of 1 to 16 fits its text without drawing a frame.

// Font is the role of a piece of the wall's text (FontBold, FontRegular).
type Font uint8

// The roles of the wall's text: bold for scores, numbers and banners, regular for names. Both are
// drawn in the wall's one typeface: assets.FontWall (DejaVu Sans Condensed Bold) or the theme's
// font.
const (
	FontBold Font = iota
	FontRegular
	numFonts
)

// Measurer measures one line of text at a font size: its advance width, and how far the line
// reaches above and below its baseline, in pixels.
type Measurer interface {
	Measure(f Font, size float64, s string) (width, ascent, descent float64)
}

// Rect is an axis-aligned rectangle in pixels, X0,Y0 inclusive and X1,Y1 exclusive.
type Rect struct{ X0, Y0, X1, Y1 float64 }

// W is the rectangle's width.
func (r Rect) W() float64 { return r.X1 - r.X0 }

// H is the rectangle's height.
func (r Rect) H() float64 { return r.Y1 - r.Y0 }

// Contains reports whether o lies inside r.
func (r Rect) Contains(o Rect) bool {
	return o.X0 >= r.X0 && o.Y0 >= r.Y0 && o.X1 <= r.X1 && o.Y1 <= r.Y1
}

// Overlaps reports whether r and o share any area.
func (r Rect) Overlaps(o Rect) bool {
	return r.X0 < o.X1 && o.X0 < r.X1 && r.Y0 < o.Y1 && o.Y0 < r.Y1
}

// Slot is a line of text's place: a box it is centred in horizontally, its top, and the largest
// font size it is drawn at. A text too wide for the box is drawn smaller; a name (Shorten) shrinks
// only so far (minFitFrac) and is then shortened with "...".
type Slot struct {
	Box     Rect // the line's box: text is centred in it and never leaves it
	Size    float64
	Font    Font
	Shorten bool
}

// Text is a line of text placed in a slot: its string (shortened with "..." when even the
// smallest size allowed does not fit), the size it is drawn at and the box its line takes.
type Text struct {
	S      string
	Size   float64
	Bounds Rect    // the line's box: advance width by ascent plus descent
	Base   float64 // the baseline's y
}

// minFitFrac is how small a name may shrink to fit its slot, as a fraction of the slot's size,
// before it is shortened instead: a name drawn smaller than that is not readable from 10 m.
const minFitFrac = 0.55

// Fit places s in the slot: centred, at the slot's size or smaller so that it fits the box's width
// and height (a Shorten slot shortens s rather than go below minFitFrac of its size), its line
// vertically centred in the box.
func (sl Slot) Fit(m Measurer, s string) Text {
	size := sl.Size
	bw, bh := sl.Box.W(), sl.Box.H()
	w, asc, desc := m.Measure(sl.Font, size, s)
	if (w > bw || asc+desc > bh) && w > 0 && asc+desc > 0 {
		size *= math.Min(bw/w, bh/(asc+desc))
		// Faces come in quarter pixels: step down until the rounding fits too.
		for i := 0; i < 20; i++ {
			if w, asc, desc = m.Measure(sl.Font, size, s); w <= bw && asc+desc <= bh {
				break
			}
			size *= 0.98
		}
		if sl.Shorten && size < sl.Size*minFitFrac {
			size = sl.Size * minFitFrac
			w, asc, desc = m.Measure(sl.Font, size, s)
			for w > bw && len(s) > 0 {
				s = shorten(s)
				w, asc, desc = m.Measure(sl.Font, size, s)
			}
		}
	}
	x0 := sl.Box.X0 + (bw-w)/2
	y0 := sl.Box.Y0 + (bh-asc-desc)/2
	return Text{S: s, Size: size, Bounds: Rect{x0, y0, x0 + w, y0 + asc + desc}, Base: y0 + asc}
}

// shorten drops the last character of s (before a "..." it already ends with) and ends it with
// "...".
func shorten(s string) string {
	const dots = "..."
	if len(s) >= len(dots) && s[len(s)-len(dots):] == dots {
		s = s[:len(s)-len(dots)]
	}
	if s == "" {
		return ""
	}
	i := len(s) - 1
	for i > 0 && s[i]&0xc0 == 0x80 { // back to the start of the last UTF-8 sequence
		i--
	}
	s = s[:i]
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	if s == "" {
		return ""
	}
	return s + dots
}

// LaneLayout is where one lane's pieces go.
type LaneLayout struct {
	Lane   Rect // the lane on the wall
	Header Rect // the header band: name, score, timer
	Play   Rect // below the header

	Name      Slot // the lane or contestant name
	Score     Slot // the running score (FontBold digits)
	Bar       Rect // the timer bar
	TimerText Slot // the time left ("0:42"), right of the bar; zero Size: no room, none drawn

	Big Slot // countdown digits and GO

	Tag    Slot // results: WINNER (or nothing)
	Rank   Slot // results: 1ST, 2ND...
	Tied   Slot // results: TIED under a shared rank
	Final  Slot // results: the final score
	Points Slot // results: POINTS under it

	Banner Slot // PAUSED, ROUND STOPPED, GET READY
}

// ScorePop is how much a lane's score grows for a moment when it changes: its slot has room for it.
const ScorePop = 1.16

// Layout is the wall's layout for one image size.
type Layout struct {
	W, H  int
	View  View
	Wall  Rect // the wall's rectangle in the image (letterboxed)
	Lanes []LaneLayout
	Unit  float64 // a wall-relative length: the wall's height / 40

	Title   Slot    // attract: the show's title
	Next    Slot    // attract: the next game
	Logo    Rect    // attract: where a logo fits
	Overlay float64 // font size of the operator's corner strip
}

// NewLayout lays the wall of cfg out in a w x h image, measuring text with m.
func NewLayout(cfg *game.Config, w, h int, m Measurer) *Layout {
	v := NewView(cfg.Wall.WidthMM, cfg.Wall.HeightMM, w, h)
	L := &Layout{W: w, H: h, View: v}
	ww, wh := v.Len(cfg.Wall.WidthMM), v.Len(cfg.Wall.HeightMM)
	L.Wall = Rect{v.OffX, v.OffY, v.OffX + ww, v.OffY + wh}
	L.Unit = wh / 40
	L.Overlay = L.Unit * 0.8
	for _, lc := range cfg.Lanes {
		x, y := v.Px(lc.XMM, lc.YMM)
		r := Rect{x, y, x + v.Len(lc.WidthMM), y + v.Len(lc.HeightMM)}
		L.Lanes = append(L.Lanes, laneLayout(r, m))
	}
	// The attract screen's title spans the wall's middle; the logo sits above it.
	tw := ww * 0.86
	L.Title = Slot{Box: Rect{L.Wall.X0 + (ww-tw)/2, L.Wall.Y0 + wh*0.40, L.Wall.X0 + (ww+tw)/2, L.Wall.Y0 + wh*0.58}, Size: wh * 0.15, Font: FontBold}
	L.Next = Slot{Box: Rect{L.Wall.X0 + (ww-tw)/2, L.Wall.Y0 + wh*0.60, L.Wall.X0 + (ww+tw)/2, L.Wall.Y0 + wh*0.68}, Size: wh * 0.055, Font: FontBold}
	L.Logo = Rect{L.Wall.X0 + ww*0.3, L.Wall.Y0 + wh*0.12, L.Wall.X1 - ww*0.3, L.Wall.Y0 + wh*0.38}
	return L
}

// laneLayout stacks a lane's header (name, score, timer bar) at its top and centres the countdown
// and the results in the rest. Sizes follow the lane's height, shrunk to fit its width: the score
// is at least 8 % of the lane's height tall (its digits' cap height), or as large as three digits
// fit the lane's width.
func laneLayout(r Rect, m Measurer) LaneLayout {
	W, H := r.W(), r.H()
	pad := math.Max(3, math.Min(W*0.07, H*0.03))
	in := Rect{r.X0 + pad, r.Y0, r.X1 - pad, r.Y1}
	iw := in.W()
	ll := LaneLayout{Lane: r}
	line := func(f Font, size float64) float64 { _, a, d := m.Measure(f, size, "0Ag"); return a + d }
	fitW := func(f Font, size float64, s string, maxW float64) float64 {
		w, _, _ := m.Measure(f, size, s)
		if w > maxW && w > 0 {
			return size * maxW / w
		}
		return size
	}
	// Header: name, score, timer bar.
	y := r.Y0 + math.Max(2, H*0.016)
	nameSize := fitW(FontRegular, H*0.04, "CONTESTANT", iw)
	nh := line(FontRegular, nameSize)
	ll.Name = Slot{Box: Rect{in.X0, y, in.X1, y + nh}, Size: nameSize, Font: FontRegular, Shorten: true}
	y += nh
	// The score's box holds its digits' ink (cap height), with room for the pop of a new score.
	capRatio := capHeight(m, FontBold)
	scoreSize := fitW(FontBold, H*0.08/capRatio, "000", iw)
	y += H * 0.008
	sh := capRatio * scoreSize * ScorePop
	ll.Score = Slot{Box: Rect{in.X0, y, in.X1, y + sh}, Size: scoreSize, Font: FontBold}
	y += sh + H*0.012
	barH := math.Max(4, H*0.011)
	tSize := fitW(FontBold, math.Max(barH*2.2, H*0.026), "0:00", iw*0.3)
	th := capRatio * tSize * 1.3
	tw, _, _ := m.Measure(FontBold, tSize, "0:00")
	rowH := math.Max(barH, th)
	if tSize >= 9 && iw-tw*1.15 > iw*0.5 {
		ll.TimerText = Slot{Box: Rect{in.X1 - tw*1.08, y + (rowH-th)/2, in.X1, y + (rowH+th)/2}, Size: tSize, Font: FontBold}
		ll.Bar = Rect{in.X0, y + (rowH-barH)/2, in.X1 - tw*1.25, y + (rowH+barH)/2}
	} else {
		ll.Bar = Rect{in.X0, y + (rowH-barH)/2, in.X1, y + (rowH+barH)/2}
	}
	y += rowH + math.Max(3, H*0.016)
	ll.Header = Rect{r.X0, r.Y0, r.X1, y}
	ll.Play = Rect{r.X0, y, r.X1, r.Y1}
	pc := (ll.Play.Y0 + ll.Play.Y1) / 2
	// Countdown: one digit (or GO!) as large as the lane allows.
	bigSize := fitW(FontBold, H*0.40, "GO!", iw)
	bh := line(FontBold, bigSize)
	ll.Big = Slot{Box: Rect{in.X0, pc - bh/2, in.X1, pc + bh/2}, Size: bigSize, Font: FontBold}
	ll.Banner = Slot{Box: Rect{in.X0, pc - H*0.04, in.X1, pc + H*0.04}, Size: fitW(FontBold, H*0.05, "PAUSED", iw), Font: FontBold}
	// Results, stacked around the middle of the play area: WINNER, rank, TIED, score, POINTS.
	tagSize := fitW(FontBold, H*0.05, "WINNER", iw)
	rankSize := fitW(FontBold, H*0.15, "16TH", iw)
	tiedSize := fitW(FontBold, H*0.032, "TIED", iw)
	finalSize := fitW(FontBold, H*0.10, "0000", iw)
	ptsSize := fitW(FontRegular, H*0.03, "POINTS", iw)
	hs := [5]float64{line(FontBold, tagSize), line(FontBold, rankSize), line(FontBold, tiedSize), capRatio * finalSize * 1.2, line(FontRegular, ptsSize)}
	gap := H * 0.012
	total := hs[0] + hs[1] + hs[2] + hs[3] + hs[4] + 4*gap
	y = pc - total/2
	if y < ll.Play.Y0 {
		y = ll.Play.Y0
	}
	slots := [5]*Slot{&ll.Tag, &ll.Rank, &ll.Tied, &ll.Final, &ll.Points}
	sizes := [5]float64{tagSize, rankSize, tiedSize, finalSize, ptsSize}
	fonts := [5]Font{FontBold, FontBold, FontBold, FontBold, FontRegular}
	for i, s := range slots {
		*s = Slot{Box: Rect{in.X0, y, in.X1, y + hs[i]}, Size: sizes[i], Font: fonts[i]}
		y += hs[i] + gap
	}
	return ll
}

// capHeight is the height of a digit as a fraction of the font size.
func capHeight(m Measurer, f Font) float64 {
	if c, ok := m.(interface{ CapHeight(Font) float64 }); ok {
		if k := c.CapHeight(f); k > 0 {
			return k
		}
	}
	return 0.7
}

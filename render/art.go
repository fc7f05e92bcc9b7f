package render

import (
	"image"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
)

// The built-in art (targets, red and golden envelopes, sparkles, the lifetime ring) is drawn by a
// richer shader once per layout size into the atlas, and drawn from there every frame as sprites:
// the per-frame shader stays small.

const artKage = `//kage:unit pixels

package main

func band(d, a, b float) float {
	return clamp(d-a+0.5, 0, 1) * clamp(b-d+0.5, 0, 1)
}

func rrect(p vec2, hw, hh, cr float) float {
	q := abs(p) - vec2(hw, hh) + cr
	return length(max(q, 0)) + min(max(q.x, q.y), 0) - cr
}

func target(p vec2, r float, base vec3) vec4 {
	d := length(p)
	t := d / r
	w := vec3(1.0, 0.97, 0.92)
	col := base
	col = mix(col, w, band(d, 0.34*r, 0.50*r))
	col = mix(col, w, band(d, 0.72*r, 0.84*r))
	col = mix(col, base*0.62, clamp((t-0.84)/0.16, 0, 1))
	col *= 1.06 - 0.22*t*t
	h := clamp(1-length(p/r-vec2(-0.36, -0.40))/0.30, 0, 1)
	col += vec3(0.30) * h * h
	return vec4(col, clamp(r-d+0.5, 0, 1))
}

func envelope(p vec2, hw, hh, shine float, gold bool) vec4 {
	cr := 0.16 * hw
	d := rrect(p, hw, hh, cr)
	a := clamp(0.5-d, 0, 1)
	ty := clamp((p.y+hh)/(2*hh), 0, 1)
	top := vec3(0.95, 0.17, 0.21)
	bottom := vec3(0.66, 0.04, 0.09)
	flapCol := vec3(0.80, 0.07, 0.12)
	trim := vec3(1.0, 0.80, 0.30)
	seal := vec3(1.0, 0.82, 0.32)
	sealDark := vec3(0.78, 0.52, 0.08)
	if gold {
		top = vec3(1.0, 0.90, 0.45)
		bottom = vec3(0.88, 0.56, 0.06)
		flapCol = vec3(0.97, 0.74, 0.20)
		trim = vec3(1.0, 0.97, 0.80)
		seal = vec3(0.88, 0.10, 0.12)
		sealDark = vec3(0.55, 0.02, 0.05)
	}
	col := mix(top, bottom, ty)
	tipY := -0.08 * hh
	edgeY := -0.64 * hh
	fy := tipY + (edgeY-tipY)*abs(p.x)/hw
	flap := clamp(fy-p.y+0.5, 0, 1)
	col = mix(col, flapCol*(1.05-0.25*ty), flap)
	col = mix(col, trim, clamp(1.6-abs(p.y-fy), 0, 1)*0.85)
	col = mix(col, trim, band(-d, 0.07*hw, 0.07*hw+max(1.5, 0.035*hw))*0.75)
	sr := 0.30 * hw
	sd := length(p - vec2(0, tipY))
	sc := mix(seal, sealDark, clamp((p.y-tipY)/sr*0.5+0.5, 0, 1))
	sc = mix(sc, sealDark, band(sd, 0.58*sr, 0.70*sr))
	col = mix(col, sc, clamp(sr-sd+0.5, 0, 1))
	if gold {
		x := (p.x + p.y*0.6) / (2 * hw)
		s := clamp(1-abs(x-(shine*3.0-1.5))/0.18, 0, 1)
		col += vec3(0.55) * s * s
	}
	return vec4(col, a)
}

func Fragment(dstPos vec4, srcPos vec2, color vec4, custom vec4) vec4 {
	kind := custom.x
	p := srcPos
	rgb := color.rgb
	a := 0.0
	if kind < 0.5 {
		c := target(p, custom.y, rgb)
		rgb = c.rgb
		a = c.a
	} else if kind < 2.5 {
		c := envelope(p, custom.y, custom.z, custom.w, kind > 1.5)
		rgb = c.rgb
		a = c.a
	} else if kind < 3.5 {
		r := custom.y
		q := abs(p) / r
		sx := clamp(1-q.x, 0, 1) * clamp(1-q.y*9, 0, 1)
		sy := clamp(1-q.y, 0, 1) * clamp(1-q.x*9, 0, 1)
		g := clamp(1-length(q)*2.2, 0, 1)
		a = max(max(sx, sy), g)
		a = a * a
	} else {
		a = clamp(custom.z*0.5-abs(length(p)-custom.y)+0.5, 0, 1)
	}
	a *= color.a
	return vec4(rgb*a, a)
}
`

// Art kinds of artKage.
const (
	artTarget   = 0 // p1 radius
	artEnvelope = 1 // p1 half width, p2 half height
	artGold     = 2 // p1, p2 as envelope, p3 shine phase 0..1
	artStar     = 3 // p1 radius
	artRing     = 4 // p1 radius, p2 thickness
)

// goldPhases is how many frames of the golden envelope's glint are baked.
const goldPhases = 24

// sprite is a baked image in the atlas: its rectangle, and how its content maps to the wall: the
// sprite's half width and height in pixels when the content's radius is unit pixels.
type sprite struct {
	r      image.Rectangle
	hw, hh float64
	unit   float64
	ok     bool
}

// draw draws the sprite with its content at radius R, centred on (cx, cy), turned by (cs, sn).
func (s *sprite) draw(b *batch, dst *ebiten.Image, cx, cy, R, cs, sn float64, c rgba, add bool) {
	if !s.ok || R <= 0 {
		return
	}
	k := R / s.unit
	b.sprite(dst, s.r, cx, cy, s.hw*k, s.hh*k, cs, sn, c, add)
}

// art holds the baked sprites of a layout.
type art struct {
	sh       *ebiten.Shader
	target   sprite
	envelope sprite
	gold     [goldPhases]sprite
	star     sprite
	ring     sprite // the lifetime ring: radius 1 unit, drawn as an arc
	ringR    float64
	themed   [3]sprite // the theme's target, packet and golden images
}

func newArt() (*art, error) {
	sh, err := ebiten.NewShader([]byte(artKage))
	if err != nil {
		return nil, err
	}
	return &art{sh: sh}, nil
}

// bake draws one art sprite: content of kind with parameters, into a fresh atlas rectangle of
// half size hw x hh pixels (the content centred).
func (ar *art) bake(at *atlas, kind float32, hw, hh float64, c rgba, p1, p2, p3, unit float64) sprite {
	w, h := int(math.Ceil(2*hw)), int(math.Ceil(2*hh))
	r, ok := at.alloc(w, h)
	if !ok {
		return sprite{}
	}
	cx, cy := float64(r.Min.X)+float64(w)/2, float64(r.Min.Y)+float64(h)/2
	vs := [4]ebiten.Vertex{}
	for k, s := range [4][2]float64{{-1, -1}, {1, -1}, {-1, 1}, {1, 1}} {
		lx, ly := s[0]*float64(w)/2, s[1]*float64(h)/2
		vs[k] = ebiten.Vertex{DstX: float32(cx + lx), DstY: float32(cy + ly), SrcX: float32(lx), SrcY: float32(ly),
			ColorR: c.R, ColorG: c.G, ColorB: c.B, ColorA: c.A,
			Custom0: kind, Custom1: float32(p1), Custom2: float32(p2), Custom3: float32(p3)}
	}
	at.img.DrawTrianglesShader(vs[:], []uint16{0, 1, 2, 1, 3, 2}, ar.sh, &ebiten.DrawTrianglesShaderOptions{})
	return sprite{r: r, hw: float64(w) / 2, hh: float64(h) / 2, unit: unit, ok: true}
}

// bakeAll bakes the built-in art for objects of radius targetR and packetR pixels, and the theme's
// images (nil: none) for those sizes.
func (ar *art) bakeAll(at *atlas, targetR, packetR float64, themed [3]*themeImg) {
	tR := math.Max(2, targetR)
	ar.target = ar.bake(at, artTarget, tR+1.5, tR+1.5, toRGBA(ColTarget), tR, 0, 0, tR)
	pR := math.Max(2, packetR)
	ehw, ehh := 0.74*pR, 0.98*pR
	ar.envelope = ar.bake(at, artEnvelope, ehw+1.5, ehh+1.5, white, ehw, ehh, 0, pR)
	for i := range ar.gold {
		ar.gold[i] = ar.bake(at, artGold, ehw+1.5, ehh+1.5, white, ehw, ehh, float64(i)/goldPhases, pR)
	}
	sR := math.Max(8, pR*0.6)
	ar.star = ar.bake(at, artStar, sR, sR, white, sR, 0, 0, sR)
	// The lifetime ring at 1.2 target radii, 0.11 thick (at least 1.5 px).
	rr, th := tR*1.2, math.Max(1.5, tR*0.11)
	rf := (rr + th) * 1.12
	ar.ring = ar.bake(at, artRing, rf, rf, white, rr, th, 0, rf)
	ar.ringR = rr
	sizes := [3][2]float64{{tR + 1, tR + 1}, {ehw + 1, ehh + 1}, {ehw + 1, ehh + 1}}
	units := [3]float64{tR, pR, pR}
	for i, ti := range themed {
		ar.themed[i] = sprite{}
		if ti == nil {
			continue
		}
		// Made a little larger than drawn at rest: objects pop to 1.55x when caught.
		const over = 1.5
		ar.themed[i] = at.upload(ti.scaled(2*sizes[i][0]*over, 2*sizes[i][1]*over), units[i]*over)
	}
}

// themeImg is a theme image (a logo, a target or packet sprite) and what it was resampled to
// before. Resampling a large image (up to 8192 x 8192) on the CPU takes up to a second, and a new
// layout asks for it again at every new image size (a render-scale step, a resized window, a
// screenshot), on the frame goroutine: so the largest resampling made so far stands in for the
// source when a smaller size is asked for, and the size asked for last is answered from memory.
// The largest size itself is always a resampling of the source: the wall at render scale 1 (and
// its screenshot) gets the same pixels whatever sizes were drawn before, unless a larger image was
// drawn first (a window made smaller).
type themeImg struct {
	src       image.Image
	big       image.Image // the largest resampling of src so far; nil before the first
	last      image.Image // the resampling asked for last
	resamples int         // times src itself was resampled (the slow path)
}

// newThemeImg returns the cache of src, or nil when src is nil (the theme has no such image).
func newThemeImg(src image.Image) *themeImg {
	if src == nil {
		return nil
	}
	return &themeImg{src: src}
}

// scaled returns the image resampled to w x h pixels (rounded up, as scaleImage does): from the
// largest resampling made so far when that is at least as large, else from the source. The
// result is shared: the caller must not change it.
func (ti *themeImg) scaled(w, h float64) image.Image {
	sz := image.Pt(max(1, int(math.Ceil(w))), max(1, int(math.Ceil(h))))
	if ti.last != nil && ti.last.Bounds().Size() == sz {
		return ti.last
	}
	var img image.Image
	switch {
	case ti.big != nil && ti.big.Bounds().Size() == sz:
		img = ti.big
	case ti.big != nil && ti.big.Bounds().Dx() >= sz.X && ti.big.Bounds().Dy() >= sz.Y:
		img = scaleImage(ti.big, w, h)
	default:
		img = scaleImage(ti.src, w, h)
		ti.resamples++
		if b := ti.big; b == nil || sz.X*sz.Y > b.Bounds().Dx()*b.Bounds().Dy() {
			ti.big = img
		}
	}
	ti.last = img
	return img
}

package render

import (
	"image"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
)

// A frame is two draw calls: the static layer (one image), then one DrawTrianglesShader call of a
// small Kage shader that draws every quad of the frame in painter's order: analytic discs, rings,
// glows and rounded rectangles (their size in the vertices' Custom0..3, their local pixel
// coordinates in SrcX/SrcY), and textured quads from the atlas (glyphs, labels, baked sprites).
// Ebiten allocates a little for every draw call, so few calls keep a frame's allocations to a
// handful; the shader stays cheap because a software rasteriser runs every branch of it for every
// pixel. Quads drawn for a lane are clipped to the lane on the CPU, so nothing spills over a
// divider.

// Quad kinds (Custom0). Adding kindAdd to a kind draws it as light (additive): glows, sparks,
// bursts, in the same call as the opaque quads.
const (
	kindDisc  = 0 // p1 radius, p2 edge softness (px, at least 1)
	kindRing  = 1 // p1 radius, p2 thickness
	kindGlow  = 2 // p1, p2: radii along local x and y: a (1-d)^2 falloff
	kindRRect = 3 // p1 half width, p2 half height, p3 corner radius
	kindFill  = 4 // the vertex colours, interpolated
	kindTex   = 5 // the atlas at SrcX/SrcY (premultiplied), tinted by the vertex colour
	kindAdd   = 100
)

const frameKage = `//kage:unit pixels

package main

func Fragment(dstPos vec4, srcPos vec2, color vec4, custom vec4) vec4 {
	kind := custom.x
	add := 0.0
	if kind >= 99.5 {
		kind -= 100
		add = 1
	}
	p := srcPos
	a := 0.0
	if kind < 0.5 {
		a = clamp((custom.y-length(p))/custom.z+0.5, 0, 1)
	} else if kind < 1.5 {
		a = clamp(custom.z*0.5-abs(length(p)-custom.y)+0.5, 0, 1)
	} else if kind < 2.5 {
		t := clamp(1-length(p/custom.yz), 0, 1)
		a = t * t
	} else if kind < 3.5 {
		q := abs(p) - custom.yz + custom.w
		a = clamp(0.5-(length(max(q, 0))+min(max(q.x, q.y), 0)-custom.w), 0, 1)
	} else if kind < 4.5 {
		a = 1
	} else {
		q := p - 0.5
		f := fract(q)
		b := floor(q) + 0.5
		t := mix(mix(imageSrc0UnsafeAt(b), imageSrc0UnsafeAt(b+vec2(1, 0)), f.x),
			mix(imageSrc0UnsafeAt(b+vec2(0, 1)), imageSrc0UnsafeAt(b+vec2(1, 1)), f.x), f.y)
		c := vec4(t.rgb*color.rgb*color.a, t.a*color.a)
		if add > 0.5 {
			c.a = 0
		}
		return c
	}
	a *= color.a
	if add > 0.5 {
		return vec4(color.rgb*a, 0)
	}
	return vec4(color.rgb*a, a)
}
`

// rgba is a straight-alpha colour in 0..1, as vertices carry it.
type rgba struct{ R, G, B, A float32 }

// with returns c with alpha a times its own.
func (c rgba) with(a float64) rgba { c.A *= float32(a); return c }

// mul scales the colour channels by k (a brighter or darker shade), keeping alpha.
func (c rgba) mul(k float64) rgba {
	return rgba{c.R * float32(k), c.G * float32(k), c.B * float32(k), c.A}
}

// mix returns the colour t of the way from c to d.
func (c rgba) mix(d rgba, t float64) rgba {
	f := float32(t)
	return rgba{c.R + (d.R-c.R)*f, c.G + (d.G-c.G)*f, c.B + (d.B-c.B)*f, c.A + (d.A-c.A)*f}
}

var (
	white = rgba{1, 1, 1, 1}
	black = rgba{0, 0, 0, 1}
)

// maxBatchVertices is where a batch flushes: uint16 indices address 65536 vertices.
const maxBatchVertices = 65000

// pt is a polygon corner: where it lands on the destination and its local (or atlas) coordinates.
type pt struct{ x, y, u, v float64 }

// batch collects a frame's quads for one destination, in painter's order, and draws them with
// one call.
type batch struct {
	sh     *ebiten.Shader
	vs     []ebiten.Vertex
	is     []uint16
	op     ebiten.DrawTrianglesShaderOptions
	clip   Rect // when clipOn, polygons are cut to it
	clipOn bool
	tmp    [2][12]pt
}

// newBatch returns a batch with no atlas yet: setAtlas gives it one before anything is drawn.
func newBatch() (*batch, error) {
	sh, err := ebiten.NewShader([]byte(frameKage))
	if err != nil {
		return nil, err
	}
	return &batch{sh: sh, vs: make([]ebiten.Vertex, 0, 16384), is: make([]uint16, 0, 24576)}, nil
}

// setAtlas makes img the atlas that textured quads sample from now on.
func (b *batch) setAtlas(img *ebiten.Image) { b.op.Images[0] = img }

// setClip cuts every polygon to r from now on (a lane, less a pixel on each side for its
// dividers).
func (b *batch) setClip(r Rect) { b.clip, b.clipOn = r, true }

// noClip stops cutting.
func (b *batch) noClip() { b.clipOn = false }

// poly adds the convex polygon p (3..8 corners) with one colour, kind and parameters, cut to the
// clip rectangle when one is set, and flushes to dst first when the batch is full.
func (b *batch) poly(dst *ebiten.Image, p []pt, c rgba, kind float32, p1, p2, p3 float64) {
	if c.A <= 0 {
		return
	}
	if b.clipOn {
		p = b.cut(p)
		if len(p) < 3 {
			return
		}
	}
	b.emit(dst, p, c, kind, p1, p2, p3)
}

// emit adds the polygon p as a fan of triangles around p[0], uncut, and flushes to dst first when
// the batch is full.
func (b *batch) emit(dst *ebiten.Image, p []pt, c rgba, kind float32, p1, p2, p3 float64) {
	if len(b.vs)+len(p) > maxBatchVertices {
		b.flush(dst)
	}
	n := uint16(len(b.vs))
	for _, q := range p {
		b.vs = append(b.vs, ebiten.Vertex{DstX: float32(q.x), DstY: float32(q.y), SrcX: float32(q.u), SrcY: float32(q.v),
			ColorR: c.R, ColorG: c.G, ColorB: c.B, ColorA: c.A,
			Custom0: kind, Custom1: float32(p1), Custom2: float32(p2), Custom3: float32(p3)})
	}
	for i := 2; i < len(p); i++ {
		b.is = append(b.is, n, n+uint16(i-1), n+uint16(i))
	}
}

// inClip reports whether every point of p lies inside the clip rectangle.
func (b *batch) inClip(p []pt) bool {
	r := b.clip
	for _, q := range p {
		if q.x < r.X0 || q.x > r.X1 || q.y < r.Y0 || q.y > r.Y1 {
			return false
		}
	}
	return true
}

// cut clips p to the clip rectangle (Sutherland-Hodgman), interpolating the local coordinates.
func (b *batch) cut(p []pt) []pt {
	if b.inClip(p) {
		return p
	}
	r := b.clip
	in := append(b.tmp[0][:0], p...)
	for edge := 0; edge < 4; edge++ {
		out := b.tmp[1][:0]
		if edge%2 == 1 {
			out = b.tmp[0][:0]
		}
		for i := range in {
			cur, prev := in[i], in[(i+len(in)-1)%len(in)]
			dc, dp := side(edge, cur, r), side(edge, prev, r)
			if dc >= 0 {
				if dp < 0 {
					out = append(out, lerpPt(prev, cur, dp/(dp-dc)))
				}
				out = append(out, cur)
			} else if dp >= 0 {
				out = append(out, lerpPt(prev, cur, dp/(dp-dc)))
			}
		}
		in = out
		if len(in) == 0 {
			return in
		}
	}
	return in
}

// side is how far q is inside edge (0 left, 1 right, 2 top, 3 bottom) of r; negative: outside.
func side(edge int, q pt, r Rect) float64 {
	switch edge {
	case 0:
		return q.x - r.X0
	case 1:
		return r.X1 - q.x
	case 2:
		return q.y - r.Y0
	}
	return r.Y1 - q.y
}

func lerpPt(a, b pt, t float64) pt {
	return pt{a.x + (b.x-a.x)*t, a.y + (b.y-a.y)*t, a.u + (b.u-a.u)*t, a.v + (b.v-a.v)*t}
}

// quad adds a shape centred on (cx, cy) extending hw x hh pixels each way in its own frame, turned
// by the angle whose cosine and sine are cs and sn. Its local coordinates run -hw..hw, -hh..hh.
func (b *batch) quad(dst *ebiten.Image, kind float32, cx, cy, hw, hh, cs, sn float64, c rgba, p1, p2, p3 float64) {
	if hw <= 0 || hh <= 0 {
		return
	}
	var p [4]pt
	for k, s := range [4][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}} {
		lx, ly := s[0]*hw, s[1]*hh
		p[k] = pt{cx + lx*cs - ly*sn, cy + lx*sn + ly*cs, lx, ly}
	}
	b.poly(dst, p[:], c, kind, p1, p2, p3)
}

// circle adds a round shape of radius r (its quad leaves room for the antialiased edge).
func (b *batch) circle(dst *ebiten.Image, kind float32, cx, cy, r float64, c rgba, p1, p2, p3 float64) {
	e := r + 1.5
	b.quad(dst, kind, cx, cy, e, e, 1, 0, c, p1, p2, p3)
}

// disc fills a circle.
func (b *batch) disc(dst *ebiten.Image, cx, cy, r float64, c rgba) {
	b.circle(dst, kindDisc, cx, cy, r, c, r, 1, 0)
}

// ring strokes a circle of radius r, thick pixels wide; add draws it as light.
func (b *batch) ring(dst *ebiten.Image, cx, cy, r, thick float64, c rgba, add bool) {
	k := float32(kindRing)
	if add {
		k += kindAdd
	}
	b.circle(dst, k, cx, cy, r+thick/2, c, r, thick, 0)
}

// glow adds a round light of radius r.
func (b *batch) glow(dst *ebiten.Image, cx, cy, r float64, c rgba) {
	if r < 0.5 {
		return
	}
	b.quad(dst, kindGlow+kindAdd, cx, cy, r, r, 1, 0, c, r, r, 0)
}

// streak adds an elongated light, hl long and hw wide each way, along the direction (cs, sn).
func (b *batch) streak(dst *ebiten.Image, cx, cy, hl, hw, cs, sn float64, c rgba) {
	if hl < 0.5 || hw < 0.5 {
		return
	}
	b.quad(dst, kindGlow+kindAdd, cx, cy, hl, hw, cs, sn, c, hl, hw, 0)
}

// rect fills an axis-aligned rectangle with a vertical gradient from top to bottom colour.
func (b *batch) rect(dst *ebiten.Image, x0, y0, x1, y1 float64, top, bottom rgba) {
	if x1 <= x0 || y1 <= y0 || (top.A <= 0 && bottom.A <= 0) {
		return
	}
	if top == bottom {
		p := [4]pt{{x0, y0, 0, 0}, {x1, y0, 0, 0}, {x1, y1, 0, 0}, {x0, y1, 0, 0}}
		b.poly(dst, p[:], top, kindFill, 0, 0, 0)
		return
	}
	// A gradient needs per-vertex colours: emitted directly (clipped by hand: it is axis-aligned).
	if b.clipOn {
		c := b.clip
		ny0, ny1 := math.Max(y0, c.Y0), math.Min(y1, c.Y1)
		if ny1 <= ny0 {
			return
		}
		t0, t1 := (ny0-y0)/(y1-y0), (ny1-y0)/(y1-y0)
		top, bottom = top.mix(bottom, t0), top.mix(bottom, t1)
		x0, x1, y0, y1 = math.Max(x0, c.X0), math.Min(x1, c.X1), ny0, ny1
		if x1 <= x0 {
			return
		}
	}
	if len(b.vs)+4 > maxBatchVertices {
		b.flush(dst)
	}
	n := uint16(len(b.vs))
	for k := 0; k < 4; k++ {
		x, y, c := x0, y0, top
		if k == 1 || k == 2 {
			x = x1
		}
		if k >= 2 {
			y, c = y1, bottom
		}
		b.vs = append(b.vs, ebiten.Vertex{DstX: float32(x), DstY: float32(y), ColorR: c.R, ColorG: c.G, ColorB: c.B, ColorA: c.A, Custom0: kindFill})
	}
	b.is = append(b.is, n, n+1, n+2, n, n+2, n+3)
}

// rrect fills a rounded rectangle.
func (b *batch) rrect(dst *ebiten.Image, x0, y0, x1, y1, cr float64, c rgba) {
	hw, hh := (x1-x0)/2, (y1-y0)/2
	b.quad(dst, kindRRect, x0+hw, y0+hh, hw+1, hh+1, 1, 0, c, hw, hh, math.Min(cr, math.Min(hw, hh)))
}

// sprite draws atlas rectangle s centred on (cx, cy), hw x hh each way, turned by (cs, sn).
func (b *batch) sprite(dst *ebiten.Image, s image.Rectangle, cx, cy, hw, hh, cs, sn float64, c rgba, add bool) {
	if hw <= 0 || hh <= 0 {
		return
	}
	k := float32(kindTex)
	if add {
		k += kindAdd
	}
	u0, v0, u1, v1 := float64(s.Min.X), float64(s.Min.Y), float64(s.Max.X), float64(s.Max.Y)
	var p [4]pt
	for i, sc := range [4][4]float64{{-1, -1, u0, v0}, {1, -1, u1, v0}, {1, 1, u1, v1}, {-1, 1, u0, v1}} {
		lx, ly := sc[0]*hw, sc[1]*hh
		p[i] = pt{cx + lx*cs - ly*sn, cy + lx*sn + ly*cs, sc[2], sc[3]}
	}
	b.poly(dst, p[:], c, k, 0, 0, 0)
}

// image draws atlas rectangle s into the destination rectangle.
func (b *batch) image(dst *ebiten.Image, s image.Rectangle, x0, y0, x1, y1 float64, c rgba) {
	b.sprite(dst, s, (x0+x1)/2, (y0+y1)/2, (x1-x0)/2, (y1-y0)/2, 1, 0, c, false)
}

// arcSegs is how many triangles a whole arc is made of: its chords stay outside the ring (the fan
// reaches 12 % beyond it), so the ring's antialiased edge comes from the sprite, not the geometry.
const arcSegs = 16

// arcDirs are the directions of the arc's spokes, clockwise from 12 o'clock.
var arcDirs = func() (d [arcSegs + 1][2]float64) {
	for i := range d {
		d[i][0], d[i][1] = math.Sincos(2 * math.Pi * float64(i) / arcSegs)
	}
	return d
}()

// arc draws the part frac (0..1, clockwise from 12 o'clock) of the ring sprite s centred on
// (cx, cy), as a fan of triangles reaching rf pixels out (beyond the ring's outer edge).
func (b *batch) arc(dst *ebiten.Image, s image.Rectangle, cx, cy, rf, frac float64, c rgba) {
	if frac <= 0 || rf <= 0 || c.A <= 0 {
		return
	}
	su, sv := float64(s.Min.X+s.Max.X)/2, float64(s.Min.Y+s.Max.Y)/2
	k := float64(s.Dx()) / 2 / rf // atlas pixels per destination pixel
	full := int(frac * arcSegs)
	var p [arcSegs + 3]pt
	p[0] = pt{cx, cy, su, sv}
	n := 1
	for i := 0; i <= full; i++ {
		sn, cs := arcDirs[i][0], arcDirs[i][1]
		p[n] = pt{cx + sn*rf, cy - cs*rf, su + sn*rf*k, sv - cs*rf*k}
		n++
	}
	if rest := frac*arcSegs - float64(full); rest > 1e-6 {
		sn, cs := math.Sincos(2 * math.Pi * frac)
		p[n] = pt{cx + sn*rf, cy - cs*rf, su + sn*rf*k, sv - cs*rf*k}
		n++
	}
	b.fan(dst, p[:n], c, kindTex)
}

// fan adds the star-shaped polygon p, a fan of triangles around p[0]: in one piece when it lies
// inside the clip rectangle, else triangle by triangle, each cut to it.
func (b *batch) fan(dst *ebiten.Image, p []pt, c rgba, kind float32) {
	if len(p) < 3 {
		return
	}
	if b.clipOn && !b.inClip(p) {
		for i := 2; i < len(p); i++ {
			tri := [3]pt{p[0], p[i-1], p[i]}
			b.poly(dst, tri[:], c, kind, 0, 0, 0)
		}
		return
	}
	b.emit(dst, p, c, kind, 0, 0, 0)
}

// flush draws the batch on dst and empties it.
func (b *batch) flush(dst *ebiten.Image) {
	if len(b.is) > 0 {
		dst.DrawTrianglesShader(b.vs, b.is, b.sh, &b.op)
	}
	b.vs, b.is = b.vs[:0], b.is[:0]
}

package render

import (
	"image"
	"image/color"
	"math"
	"strconv"
	"strings"

	"github.com/hajimehoshi/ebiten/v2"

	"tapwall/game"
	"tapwall/render/scene"
)

// Colours of the wall that are not the theme's. The window tests probe ColTarget (the middle of a
// target) and ColDivider (the lines between lanes).
var (
	ColTarget  = color.RGBA{0xff, 0x8c, 0x00, 0xff} // a target's bullseye
	ColDivider = color.RGBA{0xe6, 0xec, 0xff, 0xff} // the line between two lanes
	ColTouch   = color.RGBA{0x7d, 0xf3, 0xff, 0xff} // a finger on the wall
	ColGold    = color.RGBA{0xff, 0xd2, 0x4a, 0xff} // golden packets, winners
	ColAlarm   = color.RGBA{0xff, 0x30, 0x40, 0xff} // the last seconds, alarms
	ColGo      = color.RGBA{0xb8, 0xff, 0x3c, 0xff} // GO!
	ColText    = color.RGBA{0xff, 0xff, 0xff, 0xff} // text
)

func toRGBA(c color.RGBA) rgba {
	return rgba{float32(c.R) / 255, float32(c.G) / 255, float32(c.B) / 255, float32(c.A) / 255}
}

// prepare makes what depends on the image size, once per size: the layout, the static layer, and
// the atlas's glyphs and sprites.
func (a *App) prepare(dst *ebiten.Image) {
	b := dst.Bounds()
	if a.lay != nil && a.lay.W == b.Dx() && a.lay.H == b.Dy() {
		return
	}
	a.lay = NewLayout(a.cfg, b.Dx(), b.Dy(), a.fonts)
	L := a.lay
	if sz := atlasSize(b.Dx(), b.Dy()); a.atlas == nil || a.atlas.size != sz {
		if a.atlas != nil {
			a.atlas.img.Deallocate()
		}
		a.atlas = newAtlas(sz)
		a.b.setAtlas(a.atlas.img)
		a.labels.at = a.atlas
	}
	a.atlas.reset()
	a.labels.drop()
	a.buildStatic()
	var ll LaneLayout
	if len(L.Lanes) > 0 {
		ll = L.Lanes[0]
	}
	at := a.atlas
	a.digScore = newDigits(a.fonts, at, FontBold, math.Max(ll.Score.Size, 6))
	a.digTimer = newDigits(a.fonts, at, FontBold, math.Max(ll.TimerText.Size, 6))
	a.digFinal = newDigits(a.fonts, at, FontBold, math.Max(ll.Final.Size, 6))
	a.digPlus = newDigits(a.fonts, at, FontBold, math.Max(a.plusSize(), 6))
	v := L.View
	a.art.bakeAll(at, v.Len(a.cfg.Targets.RadiusMM), v.Len(a.cfg.Rain.RadiusMM), a.themed)
	a.logo = sprite{}
	if a.logoImg != nil {
		sz := a.logoImg.src.Bounds().Size()
		k := math.Min(L.Logo.W()/float64(sz.X), L.Logo.H()/float64(sz.Y))
		a.logo = at.upload(a.logoImg.scaled(float64(sz.X)*k, float64(sz.Y)*k), 1)
	}
	at.endStatic()
}

// laneClip is where lane i's content may draw: the lane less the pixel of each divider.
func (a *App) laneClip(i int) Rect {
	r := a.lay.Lanes[i].Lane
	return Rect{math.Ceil(r.X0) + 1, math.Ceil(r.Y0) + 1, math.Floor(r.X1) - 1, math.Floor(r.Y1) - 1}
}

// objectRadius is the radius, in mm, of the objects of the game a round plays.
func (a *App) objectRadius(game string) int32 {
	if game == "rain" {
		return a.cfg.Rain.RadiusMM
	}
	return a.cfg.Targets.RadiusMM
}

// fxRadius is the size of a hit's effects in a lane, in pixels: the object's radius, but never
// small beside the lane.
func (a *App) fxRadius(game string, lane int) float64 {
	l := a.lay.Lanes[lane].Lane
	return math.Max(a.lay.View.Len(a.objectRadius(game)), math.Min(l.W(), l.H()/2)*0.08)
}

// plusSize is the font size of "+N": about an effect's size, never wider than a third of a lane.
func (a *App) plusSize() float64 {
	s := 0.0
	for _, g := range []string{"targets", "rain"} {
		if len(a.lay.Lanes) > 0 {
			s = math.Max(s, a.fxRadius(g, 0)*1.25)
		}
	}
	if len(a.lay.Lanes) > 0 {
		s = math.Min(s, a.lay.Lanes[0].Lane.W()*0.32)
	}
	return math.Max(s, a.lay.Unit*0.9)
}

// buildStatic renders what never moves for this size: the background, the lane panels and their
// header bands, the timer tracks and the dividers.
func (a *App) buildStatic() {
	if a.bg != nil {
		a.bg.Deallocate()
	}
	L := a.lay
	a.bg = newImage(L.W, L.H)
	bg, sh := a.bg, a.b
	bg.Fill(color.Black)
	base := toRGBA(a.theme.Background)
	w := L.Wall
	if a.bgImg != nil {
		sz := a.bgImg.Bounds().Size()
		k := math.Max(w.W()/float64(sz.X), w.H()/float64(sz.Y))
		var op ebiten.DrawImageOptions
		op.GeoM.Scale(k, k)
		op.GeoM.Translate(w.X0+(w.W()-float64(sz.X)*k)/2, w.Y0+(w.H()-float64(sz.Y)*k)/2)
		op.Filter = ebiten.FilterLinear
		clip := bg.SubImage(image.Rect(int(w.X0), int(w.Y0), int(math.Ceil(w.X1)), int(math.Ceil(w.Y1)))).(*ebiten.Image)
		clip.DrawImage(a.bgImg, &op)
	} else {
		sh.rect(bg, w.X0, w.Y0, w.X1, w.Y0+w.H()*0.5, base.mul(1.7), base)
		sh.rect(bg, w.X0, w.Y0+w.H()*0.5, w.X1, w.Y1, base, base.mul(0.45))
	}
	panelA := 0.9
	if a.bgImg != nil {
		panelA = 0.6
	}
	for i, ll := range L.Lanes {
		lc := a.laneCol[i]
		r, H := ll.Lane, ll.Lane.H()
		sh.rect(bg, r.X0, r.Y0, r.X1, r.Y1, base.mix(lc, 0.17).mul(1.05).with(panelA), base.mix(lc, 0.05).mul(0.7).with(panelA))
		// Light from the floor: the lane's colour rising from its bottom edge.
		sh.rect(bg, r.X0, r.Y1-H*0.18, r.X1, r.Y1, lc.with(0), lc.with(0.22))
		// A stage floor: a perspective grid in the lane's colour fading in towards the bottom.
		sh.setClip(Rect{r.X0 + 1, r.Y0, r.X1 - 1, r.Y1})
		hy, vy := r.Y1-H*0.3, r.Y0+H*0.35
		for k := 1; k <= 7; k++ {
			f := float64(k) / 7
			y := hy + (r.Y1-hy)*f*f
			sh.rect(bg, r.X0, y-0.75, r.X1, y+0.75, lc.with(0.05+0.12*f), lc.with(0.05+0.12*f))
		}
		for j := -4; j <= 4; j++ {
			bx := (r.X0+r.X1)/2 + float64(j)*r.W()*0.32
			cx := (r.X0 + r.X1) / 2
			// The line from the vanishing point to the bottom edge, drawn from the horizon down.
			t0 := (hy - vy) / (r.Y1 - vy)
			x0 := cx + (bx-cx)*t0
			dx, dy := bx-x0, r.Y1-hy
			l := math.Hypot(dx, dy)
			sh.quad(bg, kindFill, (x0+bx)/2, (hy+r.Y1)/2, l/2, 0.75, dx/l, dy/l, lc.with(0.1), 0, 0, 0)
		}
		sh.noClip()
		// A soft sheen down the middle of the lane gives it depth.
		sh.streak(bg, (r.X0+r.X1)/2, (r.Y0+r.Y1)/2, H*0.55, r.W()*0.42, 0, 1, lc.with(0.06))
		// The header band: the lane's colour fading into glass, an accent stripe on top.
		hd := ll.Header
		sh.rect(bg, hd.X0, hd.Y0, hd.X1, hd.Y1, lc.mul(0.5).with(0.62), black.with(0.55))
		sh.rect(bg, hd.X0, hd.Y1, hd.X1, hd.Y1+H*0.03, black.with(0.35), black.with(0))
		sh.rect(bg, hd.X0, hd.Y0, hd.X1, hd.Y0+math.Max(3, H*0.007), lc, lc.mul(0.8))
		sh.streak(bg, (hd.X0+hd.X1)/2, hd.Y0+H*0.004, r.W()*0.55, H*0.03, 1, 0, lc.with(0.35))
		sh.rect(bg, hd.X0, hd.Y1-1.5, hd.X1, hd.Y1, lc.with(0.5), lc.with(0.5))
		b := ll.Bar
		sh.rrect(bg, b.X0-1, b.Y0-1, b.X1+1, b.Y1+1, b.H()/2+1, black.with(0.6))
		sh.rrect(bg, b.X0, b.Y0, b.X1, b.Y1, b.H()/2, lc.mul(0.25).with(0.8))
	}
	div := toRGBA(ColDivider)
	for _, ll := range L.Lanes {
		r := ll.Lane
		edges := [4][4]float64{{r.X0, r.Y0, r.X0, r.Y1}, {r.X1, r.Y0, r.X1, r.Y1}, {r.X0, r.Y0, r.X1, r.Y0}, {r.X0, r.Y1, r.X1, r.Y1}}
		for _, e := range edges {
			vertical := e[0] == e[2]
			onBorder := (vertical && (e[0] <= w.X0+0.5 || e[0] >= w.X1-0.5)) || (!vertical && (e[1] <= w.Y0+0.5 || e[1] >= w.Y1-0.5))
			if onBorder {
				continue
			}
			if vertical {
				x := math.Round(e[0])
				sh.streak(bg, x, (e[1]+e[3])/2, (e[3]-e[1])/2, L.Unit*0.55, 0, 1, white.with(0.22))
				sh.rect(bg, x-1, e[1], x+1, e[3], div, div)
			} else {
				y := math.Round(e[1])
				sh.streak(bg, (e[0]+e[2])/2, y, (e[2]-e[0])/2, L.Unit*0.55, 1, 0, white.with(0.22))
				sh.rect(bg, e[0], y-1, e[2], y+1, div, div)
			}
		}
	}
	sh.flush(bg)
}

// drawScene draws the picture of sc on dst: everything on the wall at one instant, a function of
// the scene alone. It is two draw calls: the static layer, then one batch.
func (a *App) drawScene(dst *ebiten.Image, sc *scene.Scene) {
	a.prepare(dst)
	a.labels.dst = dst
	L, b := a.lay, a.b
	a.bgOp.GeoM.Reset()
	bb := dst.Bounds()
	a.bgOp.GeoM.Translate(float64(bb.Min.X), float64(bb.Min.Y))
	dst.DrawImage(a.bg, &a.bgOp)
	r := sc.Round
	tm := newTiming(sc)
	a.collect(r, tm)
	// The headers first: an object in a header's band is drawn over the score, never hidden by it.
	a.drawHeaders(dst, sc, r, tm)
	if r != nil {
		for i := range L.Lanes {
			b.setClip(a.laneClip(i))
			a.drawLane(dst, i, r, tm, sc.Attract)
		}
		b.noClip()
	}
	switch {
	case sc.Attract:
		a.drawAttract(dst, sc, tm)
	case r == nil || r.Phase() == game.PhaseIdle:
		a.drawBanner(dst, "GET READY", 0.35, tm)
	case r.Phase() == game.PhaseCountdown:
		a.drawCountdown(dst, r, tm)
	case r.Phase() == game.PhaseRunning:
		a.drawGo(dst, tm)
	case r.Phase() == game.PhasePaused:
		a.drawBanner(dst, "PAUSED", 0.55, tm)
	case r.Phase() == game.PhaseAborted:
		a.drawBanner(dst, "STOPPED", 0.6, tm)
	case r.Phase() == game.PhaseFinished:
		a.drawResults(dst, r, tm)
	}
	a.drawTouches(dst, sc.Touches)
	b.flush(dst)
}

// collect gathers the hits and vanished objects recent enough to be drawn, newest first, and what
// every lane's score has yet to count up.
func (a *App) collect(r *game.Round, tm timing) {
	a.hits, a.gone = a.hits[:0], a.gone[:0]
	for i := range a.pending {
		a.pending[i], a.popAge[i] = 0, -1
	}
	if r == nil {
		return
	}
	r.Hits(func(h *game.Hit) bool {
		age := tm.since(h.Tick)
		if age > effectSec {
			return false
		}
		a.hits = append(a.hits, *h)
		if h.Points > 0 && int(h.Lane) < len(a.pending) {
			a.pending[h.Lane] += pendingPoints(h.Points, age)
			if a.popAge[h.Lane] < 0 {
				a.popAge[h.Lane] = age
			}
		}
		return true
	})
	r.GoneObjects(func(g *game.Gone) bool {
		if tm.since(g.Tick) > vanishSec {
			return false
		}
		a.gone = append(a.gone, *g)
		return true
	})
}

// drawLane draws one lane's objects and effects (the batch clips them to the lane); the attract
// screen's play shows no points (no "+N": the title is read there).
func (a *App) drawLane(dst *ebiten.Image, lane int, r *game.Round, tm timing, attract bool) {
	L, b := a.lay, a.b
	v := L.View
	ll := &L.Lanes[lane]
	lx, ly := ll.Lane.X0, ll.Lane.Y0
	lc := a.laneCol[lane]
	rain := r.GameName() == "rain"
	bit := uint16(1) << lane
	objs := r.Objects()
	// The last seconds, large and faint behind the play: the same number in every lane.
	if r.Phase() == game.PhaseRunning {
		if left := timeLeft(r, tm); left <= lastSeconds && left > 0 {
			n := int(math.Ceil(left))
			pulse := 0.5 + 0.5*math.Cos(2*math.Pi*left)
			sl := bigSlot(ll.Big, 1.15)
			a.labels.get(sl, countdownDigits[n]).draw(b, dst, sl.Box.X0, sl.Box.Y0, 0.9+0.1*pulse, toRGBA(ColAlarm).with(0.16+0.14*pulse))
		}
	}
	// Objects that went: shrinking away where they were.
	for k := range a.gone {
		g := &a.gone[k]
		if g.Object.Taken&bit != 0 {
			continue
		}
		p := tm.since(g.Tick) / vanishSec
		cx, cy := lx+float64(g.At[0])*v.Scale, ly+float64(g.At[1])*v.Scale
		R := float64(g.Object.R) * v.Scale
		b.ring(dst, cx, cy, R*(1+0.6*easeOut(p)), math.Max(1, R*0.07*(1-p)), white.with(0.4*(1-p)), true)
		a.drawObject(dst, &g.Object, rain, cx, cy, R, 1-0.7*easeOut(p), 1-p, 0, false, tm)
	}
	// The objects on the wall.
	for k := range objs {
		o := &objs[k]
		if o.Taken&bit != 0 {
			continue
		}
		ox, oy := tm.pos(o)
		cx, cy := lx+ox*v.Scale, ly+oy*v.Scale
		age := tm.age(o)
		grow, alpha := 1.0, 1.0
		if age < appearSec {
			grow, alpha = easeOutBack(age/appearSec), clamp01(age/(appearSec*0.45))
		}
		life := 1.0
		if !rain && o.Expire > o.Spawn {
			life = clamp01((float64(o.Expire-tm.runTick) - tm.runFrac) / float64(o.Expire-o.Spawn))
		}
		a.drawObject(dst, o, rain, cx, cy, float64(o.R)*v.Scale, grow, alpha, life, false, tm)
	}
	// Objects caught in this lane: a quick pop where they were.
	for k := range a.hits {
		h := &a.hits[k]
		if int(h.Lane) != lane || h.Miss {
			continue
		}
		age := tm.since(h.Tick)
		if age >= popSec {
			continue
		}
		for j := range objs {
			if o := &objs[j]; o.ID == h.Object {
				p := age / popSec
				ox, oy := tm.pos(o)
				a.drawObject(dst, o, rain, lx+ox*v.Scale, ly+oy*v.Scale, float64(o.R)*v.Scale, 1+0.6*easeOut(p), 0.9*(1-p)*(1-p), 0, true, tm)
				break
			}
		}
	}
	// Effects: ripples for misses, bursts for hits.
	R := a.fxRadius(r.GameName(), lane)
	for k := range a.hits {
		h := &a.hits[k]
		if int(h.Lane) != lane {
			continue
		}
		age := tm.since(h.Tick)
		hx, hy := v.Px(h.XMM, h.YMM)
		if h.Miss {
			rr, ra := rippleEffect(age)
			if ra > 0 {
				b.ring(dst, hx, hy, rr*R, math.Max(1.5, R*0.1*(1-age/rippleSec)), white.with(ra), true)
				b.glow(dst, hx, hy, R*0.6, white.with(ra*0.35))
			}
			continue
		}
		a.drawBurst(dst, h, hitEffect(age, h.Golden), hx, hy, R, lc)
	}
	// "+N" over the bursts, never rising into the header.
	for k := range a.hits {
		h := &a.hits[k]
		if int(h.Lane) != lane || h.Miss || h.Points <= 0 || attract {
			continue
		}
		fx := hitEffect(tm.since(h.Tick), h.Golden)
		if fx.RiseA <= 0 {
			continue
		}
		hx, hy := v.Px(h.XMM, h.YMM)
		a.num = strconv.AppendInt(append(a.num[:0], '+'), h.Points, 10)
		d := a.digPlus
		k := fx.RiseK
		c := white
		if h.Golden {
			k *= 1.3
			c = toRGBA(ColGold).mix(white, 0.3)
		}
		w := d.width(a.num) * k
		x := math.Min(math.Max(hx-w/2, ll.Lane.X0+2), ll.Lane.X1-2-w)
		base := math.Max(hy-fx.RiseY*R+d.cap*k/2, ll.Header.Y1+2+d.cap*k)
		b.glow(dst, x+w/2, base-d.cap*k/2, w*0.75, lc.with(0.35*fx.RiseA))
		d.draw(b, dst, a.num, x, base, k, c.with(fx.RiseA))
	}
}

// drawObject draws one object's body at (cx, cy) px with radius R px, grown by grow, at alpha,
// with its lifetime ring (targets) showing life (0..1; 0 draws none); light draws its body as light
// only (a caught object's flash).
func (a *App) drawObject(dst *ebiten.Image, o *game.Object, rain bool, cx, cy, R, grow, alpha, life float64, light bool, tm timing) {
	b, ar := a.b, a.art
	Rg := R * grow
	if Rg <= 0.3 || alpha <= 0 {
		return
	}
	if !rain {
		tc := toRGBA(ColTarget)
		b.glow(dst, cx, cy, Rg*1.75, tc.with(0.4*alpha))
		if life > 0 {
			k := Rg / ar.target.unit
			th := math.Max(1.5, Rg*0.11)
			b.ring(dst, cx, cy, ar.ringR*k, th, white.with(0.14*alpha), false)
			ac := white.mix(toRGBA(ColAlarm), clamp01((0.35-life)/0.25))
			b.arc(dst, ar.ring.r, cx, cy, ar.ring.hw*k, life, ac.with(alpha))
			// Round ends.
			sn, cs := math.Sincos(2 * math.Pi * life)
			rr := ar.ringR * k
			b.disc(dst, cx, cy-rr, th/2, ac.with(alpha))
			b.disc(dst, cx+sn*rr, cy-cs*rr, th/2, ac.with(alpha))
		}
		if ar.themed[0].ok {
			ar.themed[0].draw(b, dst, cx, cy, Rg, 1, 0, white.with(alpha), light)
			return
		}
		ar.target.draw(b, dst, cx, cy, Rg, 1, 0, white.with(alpha), light)
		return
	}
	run := tm.runSec()
	sway := 0.12 * math.Sin(run*2.4+float64(o.ID)*1.7)
	sn, cs := math.Sincos(sway)
	if o.Golden {
		pulse := 0.5 + 0.5*math.Sin(run*6+float64(o.ID))
		b.glow(dst, cx, cy, Rg*(2.1+0.25*pulse), toRGBA(ColGold).with((0.45+0.2*pulse)*alpha))
		if ar.themed[2].ok {
			ar.themed[2].draw(b, dst, cx, cy, Rg, cs, sn, white.with(alpha), light)
		} else {
			ph := int(math.Mod(run*0.7+float64(o.ID)*0.37, 1) * goldPhases)
			ar.gold[min(ph, goldPhases-1)].draw(b, dst, cx, cy, Rg, cs, sn, white.with(alpha), light)
		}
		st := Rg * (0.7 + 0.4*pulse)
		hw, hh := Rg*0.74, Rg*0.98
		ar.star.draw(b, dst, cx+hw*0.8*cs+hh*0.75*sn, cy+hw*0.8*sn-hh*0.75*cs, st, 1, 0, white.with(alpha*(0.5+0.5*pulse)), true)
		return
	}
	b.glow(dst, cx, cy, Rg*1.6, rgba{1, 0.15, 0.2, 1}.with(0.32*alpha))
	if ar.themed[1].ok {
		ar.themed[1].draw(b, dst, cx, cy, Rg, cs, sn, white.with(alpha), light)
		return
	}
	ar.envelope.draw(b, dst, cx, cy, Rg, cs, sn, white.with(alpha), light)
}

// drawBurst draws a hit's flash, shock rings and sparks in the lane's colour (gold for golden).
func (a *App) drawBurst(dst *ebiten.Image, h *game.Hit, fx hitFX, hx, hy, R float64, lc rgba) {
	b := a.b
	col := lc.mix(white, 0.2)
	n := 14
	if h.Golden {
		col, n = toRGBA(ColGold), 24
	}
	if fx.FlashA > 0 {
		b.glow(dst, hx, hy, fx.FlashR*R*1.7, col.with(fx.FlashA*0.6))
		b.glow(dst, hx, hy, fx.FlashR*R, white.with(fx.FlashA))
	}
	if fx.RingA > 0 {
		b.ring(dst, hx, hy, fx.RingR*R, math.Max(2, fx.RingThick*R), col.with(fx.RingA), true)
		b.ring(dst, hx, hy, fx.RingR*R*0.8, math.Max(1, fx.RingThick*R*0.4), white.with(fx.RingA*0.8), true)
	}
	if fx.SparkA <= 0 {
		return
	}
	seed := uint64(h.Tick)<<8 ^ uint64(h.Lane)<<40 ^ uint64(h.Object)
	reach := 2.4
	if h.Golden {
		reach = 3.6
	}
	for j := 0; j < n; j++ {
		u1, u2, u3 := hash01(seed, uint64(3*j)), hash01(seed, uint64(3*j+1)), hash01(seed, uint64(3*j+2))
		ang := 2 * math.Pi * (float64(j) + u1*0.8) / float64(n)
		sn, cs := math.Sincos(ang)
		dist := R*0.35 + fx.Spark*R*reach*(0.55+0.45*u2)
		l := R * (0.5 + 0.4*u3) * (1.25 - fx.Spark*0.7)
		w := math.Max(2, R*0.14)
		c := col.mix(white, 0.5*u3)
		b.streak(dst, hx+cs*dist, hy+sn*dist, l, w, cs, sn, c.with(fx.SparkA))
		b.streak(dst, hx+cs*dist, hy+sn*dist, l*0.6, w*0.45, cs, sn, white.with(fx.SparkA*0.8))
		if h.Golden && j%3 == 0 {
			a.art.star.draw(b, dst, hx+cs*dist, hy+sn*dist, R*(0.5+0.3*u2)*fx.SparkA, 1, 0, white.with(fx.SparkA), true)
		}
	}
}

// timeLeft is the round's time left in seconds (the whole round before it runs).
func timeLeft(r *game.Round, tm timing) float64 {
	return math.Max(0, (float64(r.Length()-tm.runTick)-tm.runFrac)/tm.rate)
}

// drawHeaders draws every lane's name, score and timer.
func (a *App) drawHeaders(dst *ebiten.Image, sc *scene.Scene, r *game.Round, tm timing) {
	L, b := a.lay, a.b
	over := r != nil && r.Phase().Over()
	showTimer := r != nil && !sc.Attract && !over
	left, frac := 0.0, 1.0
	last := false
	pulse := 0.0
	if showTimer {
		left = timeLeft(r, tm)
		if r.Length() > 0 {
			frac = clamp01(left / (float64(r.Length()) / tm.rate))
		}
		last = r.Phase() != game.PhaseCountdown && left <= lastSeconds
		pulse = 0.5 + 0.5*math.Cos(2*math.Pi*left)
	}
	red := toRGBA(ColAlarm)
	for i, ll := range L.Lanes {
		if showTimer {
			bar := ll.Bar
			if fw := bar.W() * frac; fw >= 1 {
				c := a.laneCol[i].mix(white, 0.2)
				if last {
					c = red.mul(0.75 + 0.35*pulse)
					gw := bar.H() * (2.2 + 1.6*pulse)
					b.streak(dst, bar.X0+fw/2, (bar.Y0+bar.Y1)/2, fw/2+gw, gw, 1, 0, red.with(0.35+0.3*pulse))
				}
				b.rrect(dst, bar.X0, bar.Y0, bar.X0+fw, bar.Y1, bar.H()/2, c)
				b.rect(dst, bar.X0+bar.H()/2, bar.Y0+bar.H()*0.15, bar.X0+math.Max(fw-bar.H()/2, bar.H()/2), bar.Y0+bar.H()*0.42, white.with(0.35), white.with(0))
			}
			if last { // the last seconds: the lane's edges glow red with every second
				lr := a.laneClip(i)
				gw := lr.W() * 0.05
				b.setClip(lr)
				b.streak(dst, lr.X0, (lr.Y0+lr.Y1)/2, lr.H()*0.6, gw, 0, 1, red.with(0.35+0.4*pulse))
				b.streak(dst, lr.X1, (lr.Y0+lr.Y1)/2, lr.H()*0.6, gw, 0, 1, red.with(0.35+0.4*pulse))
				b.noClip()
			}
		}
		name := a.cfg.Lanes[i].Name
		if r != nil {
			name = r.Name(i)
		}
		a.labels.get(ll.Name, name).draw(b, dst, ll.Name.Box.X0, ll.Name.Box.Y0, 1, a.laneCol[i].mix(white, 0.6))
		if sc.Attract {
			a.labels.get(ll.Score, "DEMO").draw(b, dst, ll.Score.Box.X0, ll.Score.Box.Y0, 0.55, a.laneCol[i].mix(white, 0.3).with(0.85))
		} else if over {
			a.labels.get(ll.Score, "FINAL").draw(b, dst, ll.Score.Box.X0, ll.Score.Box.Y0, 0.5, a.laneCol[i].mix(white, 0.45).with(0.9))
		}
	}
	if showTimer { // the scores show with the timer: a round that is not over, not the attract screen
		d := a.digScore
		for i, ll := range L.Lanes {
			shown := countUp(r.Score(i), a.pending[i])
			a.num = strconv.AppendInt(a.num[:0], shown, 10)
			k := 1.0
			if age := a.popAge[i]; age >= 0 && age < 0.22 {
				k = 1 + (ScorePop-1)*(1-age/0.22)
			}
			x, base, k := placeNumber(ll.Score.Box, d.width(a.num), d.cap, k)
			d.draw(b, dst, a.num, x, base, k, white)
		}
	}
	if showTimer && len(L.Lanes) > 0 && L.Lanes[0].TimerText.Size > 0 {
		d := a.digTimer
		a.num = appendClock(a.num[:0], int64(math.Ceil(left)))
		c := white.mul(0.92)
		if last {
			c = red.mix(white, 0.35*pulse)
		}
		w := d.width(a.num)
		for _, ll := range L.Lanes {
			box := ll.TimerText.Box
			d.draw(b, dst, a.num, box.X1-w, (box.Y0+box.Y1)/2+d.cap/2, 1, c)
		}
	}
}

// countdownDigits are the countdown's numbers.
var countdownDigits = func() [61]string {
	var s [61]string
	for i := 1; i < len(s); i++ {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// bigSlot is the countdown slot enlarged by k, so a digit drawn shrinking from k to 1 stays sharp.
func bigSlot(sl Slot, k float64) Slot {
	cx, cy := (sl.Box.X0+sl.Box.X1)/2, (sl.Box.Y0+sl.Box.Y1)/2
	hw, hh := sl.Box.W()/2*k, sl.Box.H()/2*k
	sl.Box = Rect{cx - hw, cy - hh, cx + hw, cy + hh}
	sl.Size *= k
	return sl
}

// drawCountdown draws 3, 2, 1 in every lane at once: each number pops in large and settles while
// a ring pulses out with it.
func (a *App) drawCountdown(dst *ebiten.Image, r *game.Round, tm timing) {
	L, b := a.lay, a.b
	rem := (float64(r.CountdownTicks()) - tm.frac) / tm.rate
	n := int(math.Ceil(rem))
	if n < 1 || n >= len(countdownDigits) {
		return
	}
	p := float64(n) - rem // 0 when the number appears, 1 when the next one comes
	const over = 1.5
	k := (over - (over-1)*easeOut(p/0.3)) / over
	alpha := 1.0
	if p > 0.75 {
		alpha = 1 - (p-0.75)/0.25*0.8
	}
	for i, ll := range L.Lanes {
		lc := a.laneCol[i]
		cx, cy := (ll.Big.Box.X0+ll.Big.Box.X1)/2, (ll.Big.Box.Y0+ll.Big.Box.Y1)/2
		s := ll.Big.Size
		b.setClip(a.laneClip(i))
		b.glow(dst, cx, cy, s*0.95, lc.with(0.55*(1-p*0.6)))
		b.ring(dst, cx, cy, s*(0.32+0.5*easeOut(p)), math.Max(2, s*0.05*(1-p)), lc.mix(white, 0.3).with(0.9*(1-p)), true)
		sl := bigSlot(ll.Big, over)
		a.labels.get(sl, countdownDigits[n]).draw(b, dst, sl.Box.X0, sl.Box.Y0, k, white.with(alpha))
	}
	b.noClip()
}

// drawGo draws GO! in every lane for the first moment of the round.
func (a *App) drawGo(dst *ebiten.Image, tm timing) {
	t := tm.runSec()
	if t >= goSec {
		return
	}
	L, b := a.lay, a.b
	p := t / goSec
	const over = 1.1 // the label is made this much larger than the slot: it pops to 1.05 of it
	k := (0.55 + 0.45*easeOutBack(p/0.35)) / over
	alpha := 1.0
	if p > 0.55 {
		alpha = 1 - (p-0.55)/0.45
	}
	gc := toRGBA(ColGo)
	for i, ll := range L.Lanes {
		cx, cy := (ll.Big.Box.X0+ll.Big.Box.X1)/2, (ll.Big.Box.Y0+ll.Big.Box.Y1)/2
		b.setClip(a.laneClip(i))
		if p < 0.35 {
			b.rect(dst, ll.Lane.X0, ll.Play.Y0, ll.Lane.X1, ll.Lane.Y1, gc.with(0), gc.with(0.25*(1-p/0.35)))
		}
		b.glow(dst, cx, cy, ll.Big.Size*1.1, gc.with(0.5*alpha))
		sl := bigSlot(ll.Big, over)
		a.labels.get(sl, "GO!").draw(b, dst, sl.Box.X0, sl.Box.Y0, k, gc.mix(white, 0.25).with(alpha))
	}
	b.noClip()
}

// drawBanner dims every lane by dim and writes s across each (PAUSED, STOPPED, GET READY).
func (a *App) drawBanner(dst *ebiten.Image, s string, dim float64, tm timing) {
	L, b := a.lay, a.b
	t := (float64(tm.tick) + tm.frac) / tm.rate
	alpha := 0.8 + 0.2*math.Cos(2*math.Pi*t/1.6)
	for i, ll := range L.Lanes {
		c := a.laneClip(i)
		b.rect(dst, c.X0, ll.Play.Y0, c.X1, c.Y1, black.with(dim), black.with(dim))
		a.labels.get(ll.Banner, s).draw(b, dst, ll.Banner.Box.X0, ll.Banner.Box.Y0, 1, a.laneCol[i].mix(white, 0.7).with(alpha))
	}
}

// drawResults shows every lane's rank and final score inside the lane; the winners (rank 1, ties
// included) glow gold under falling confetti, the others dim.
func (a *App) drawResults(dst *ebiten.Image, r *game.Round, tm timing) {
	L, b := a.lay, a.b
	a.ranks = r.Ranks(a.ranks[:0])
	if len(a.ranks) != len(L.Lanes) {
		return
	}
	gold := toRGBA(ColGold)
	t := (float64(tm.tick) + tm.frac) / tm.rate
	pulse := 0.5 + 0.5*math.Sin(2*math.Pi*t/1.4)
	for i, ll := range L.Lanes {
		lr := a.laneClip(i)
		ord, tied, win := laneResult(a.ranks, i)
		b.setClip(lr)
		if !win {
			b.rect(dst, lr.X0, ll.Play.Y0, lr.X1, lr.Y1, black.with(0.5), black.with(0.68))
		} else {
			// A spotlight from above, a warm glow behind the rank, a pulsing gold frame, confetti.
			b.rect(dst, lr.X0, ll.Play.Y0, lr.X1, lr.Y1, black.with(0.3), black.with(0.45))
			b.streak(dst, (lr.X0+lr.X1)/2, lr.Y0, lr.H()*0.95, lr.W()*0.55, 0, 1, gold.with(0.22+0.08*pulse))
			ry := (ll.Rank.Box.Y0 + ll.Rank.Box.Y1) / 2
			b.glow(dst, (lr.X0+lr.X1)/2, ry, math.Min(lr.W()*0.7, lr.H()*0.3), gold.with(0.3+0.15*pulse))
			bw := math.Max(3, math.Min(lr.W(), lr.H()/2)*0.016)
			gc := gold.with(0.8 + 0.2*pulse)
			b.rect(dst, lr.X0, lr.Y0, lr.X0+bw, lr.Y1, gc, gc)
			b.rect(dst, lr.X1-bw, lr.Y0, lr.X1, lr.Y1, gc, gc)
			b.rect(dst, lr.X0, lr.Y1-bw, lr.X1, lr.Y1, gc, gc)
			b.rect(dst, lr.X0, lr.Y0, lr.X1, lr.Y0+bw, gc, gc)
			a.drawConfetti(dst, i, t)
		}
		lc := a.laneCol[i]
		rc := white.mix(lc, 0.25)
		k := 1.0
		if win {
			rc, k = gold.mix(white, 0.25), 1+0.04*pulse
			a.labels.get(ll.Tag, "WINNER").draw(b, dst, ll.Tag.Box.X0, ll.Tag.Box.Y0, 1+0.05*pulse, gold.mix(white, 0.5*pulse))
		}
		a.labels.get(ll.Rank, ord).draw(b, dst, ll.Rank.Box.X0, ll.Rank.Box.Y0, k, rc)
		if tied {
			a.labels.get(ll.Tied, "TIED").draw(b, dst, ll.Tied.Box.X0, ll.Tied.Box.Y0, 1, lc.mix(white, 0.5))
		}
		a.num = strconv.AppendInt(a.num[:0], r.Score(i), 10)
		c := white
		if win {
			c = gold.mix(white, 0.55)
		}
		x, base, fk := placeNumber(ll.Final.Box, a.digFinal.width(a.num), a.digFinal.cap, 1)
		a.digFinal.draw(b, dst, a.num, x, base, fk, c)
		a.labels.get(ll.Points, "POINTS").draw(b, dst, ll.Points.Box.X0, ll.Points.Box.Y0, 1, white.with(0.8))
	}
	b.noClip()
}

// laneResult is what lane shows in the results, from the round's ranks: its rank as an ordinal,
// whether another lane shares it (TIED), and whether it won (rank 1, ties included).
func laneResult(ranks []int, lane int) (ord string, tied, winner bool) {
	for j, rk := range ranks {
		tied = tied || (j != lane && rk == ranks[lane])
	}
	return ordinal(ranks[lane]), tied, ranks[lane] == 1
}

// placeNumber centres the ink of a number of advance w and digit height cap (at scale 1) in box,
// at scale k or smaller so that it fits the box: where it starts, its baseline and its scale.
func placeNumber(box Rect, w, cap, k float64) (x, base, scale float64) {
	if w*k > box.W() && w > 0 {
		k = box.W() / w
	}
	if cap*k > box.H() && cap > 0 {
		k = box.H() / cap
	}
	return (box.X0+box.X1)/2 - w*k/2, (box.Y0+box.Y1)/2 + cap*k/2, k
}

// confettiColors are the confetti's colours besides the lane's own.
var confettiColors = [...]rgba{{1, 0.82, 0.29, 1}, {1, 1, 1, 1}, {1, 0.45, 0.6, 1}, {0.45, 0.85, 1, 1}}

// drawConfetti lets confetti fall through lane, endlessly, t seconds in.
func (a *App) drawConfetti(dst *ebiten.Image, lane int, t float64) {
	b := a.b
	lr := a.lay.Lanes[lane].Lane
	W, H := lr.W(), lr.H()
	n := 26 + int(W/H*40)
	for j := 0; j < n; j++ {
		seed := uint64(lane)*977 + uint64(j)
		speed := 0.16 + 0.14*hash01(seed, 1)
		y := math.Mod(t*speed+hash01(seed, 2), 1.0)*1.1 - 0.05
		x := lr.X0 + W*hash01(seed, 3) + math.Sin(t*(1.2+hash01(seed, 4))+hash01(seed, 5)*6)*W*0.04
		sz := H * (0.006 + 0.005*hash01(seed, 6))
		spin := t*(2+3*hash01(seed, 7)) + hash01(seed, 8)*6
		flip := math.Abs(math.Cos(t*(3+2*hash01(seed, 9)) + hash01(seed, 10)*6))
		c := confettiColors[j%len(confettiColors)]
		if j%5 == 4 {
			c = a.laneCol[lane].mix(white, 0.2)
		}
		hw, hh := sz*(0.3+0.7*flip), sz*0.55
		sn, cs := math.Sincos(spin)
		b.quad(dst, kindRRect, x, lr.Y0+y*H, hw+1, hh+1, cs, sn, c.mul(0.75+0.25*flip), hw, hh, sz*0.15)
	}
}

// drawAttract puts the attract screen over the autoplayed round: the wall dimmed, the title or the
// logo and the next game across the middle.
func (a *App) drawAttract(dst *ebiten.Image, sc *scene.Scene, tm timing) {
	L, b := a.lay, a.b
	w := L.Wall
	b.rect(dst, w.X0, w.Y0, w.X1, w.Y1, black.with(0.45), black.with(0.45))
	top, bot := L.Title.Box.Y0-L.Unit*2, L.Next.Box.Y1+L.Unit*2
	if a.logo.ok {
		top = L.Logo.Y0 - L.Unit
	}
	mid := (top + bot) / 2
	b.rect(dst, w.X0, top, w.X1, mid, black.with(0), black.with(0.8))
	b.rect(dst, w.X0, mid, w.X1, bot, black.with(0.8), black.with(0))
	t := (float64(tm.tick) + tm.frac) / tm.rate
	breath := 0.5 + 0.5*math.Sin(2*math.Pi*t/3.2)
	tc := (L.Title.Box.Y0 + L.Title.Box.Y1) / 2
	for i := range L.Lanes {
		x := w.X0 + w.W()*(float64(i)+0.5)/float64(len(L.Lanes))
		b.glow(dst, x, tc, w.H()*0.22, a.laneCol[i].with(0.16+0.1*breath))
	}
	b.streak(dst, (w.X0+w.X1)/2, tc, w.W()*0.45, L.Title.Size*0.55, 1, 0, white.with(0.1+0.08*breath))
	// A light sweeping across the title now and then.
	sx := w.X0 + w.W()*(math.Mod(t/4.5, 1)*1.6-0.3)
	b.streak(dst, sx, tc, L.Title.Size*1.1, L.Title.Size*0.35, 0.34, 0.94, white.with(0.2))
	if a.logo.ok {
		cx, cy := (L.Logo.X0+L.Logo.X1)/2, (L.Logo.Y0+L.Logo.Y1)/2
		b.image(dst, a.logo.r, math.Round(cx-a.logo.hw), math.Round(cy-a.logo.hh), math.Round(cx-a.logo.hw)+2*a.logo.hw, math.Round(cy-a.logo.hh)+2*a.logo.hh, white)
	}
	if title := a.cfg.Show.Title; title != "" {
		a.labels.get(L.Title, title).draw(b, dst, L.Title.Box.X0, L.Title.Box.Y0, 1, white)
	}
	if sc.NextGame != a.nextGame {
		a.nextGame = sc.NextGame
		a.nextText = "NEXT GAME: " + strings.ToUpper(sc.NextGame) // once per game, not per frame
	}
	a.labels.get(L.Next, a.nextText).draw(b, dst, L.Next.Box.X0, L.Next.Box.Y0, 1, toRGBA(ColGold).mix(white, 0.3))
}

// drawTouches marks every finger on the wall: a bright ring with a soft halo.
func (a *App) drawTouches(dst *ebiten.Image, touches []scene.Touch) {
	v, b := a.lay.View, a.b
	tc := toRGBA(ColTouch)
	r := math.Max(4, v.Len(55))
	for _, t := range touches {
		px, py := v.Px(t.XMM, t.YMM)
		b.glow(dst, px, py, r*2.4, tc.with(0.35))
		b.ring(dst, px, py, r, math.Max(2, r*0.16), tc, false)
		b.disc(dst, px, py, r*0.28, white.with(0.9))
	}
}

"""Skeleton image -> pose: read a standard OpenPose control map (black background, the limb and joint
colours of :mod:`render`) back into a :class:`PoseFrame`, so that a pose that exists only as a picture
can be edited.

``pose_from_skeleton_image(image_rgb, *, hands=True, face=True) -> PoseFrame``: the input is RGB (like
everything in the library; convert a ``cv2.imread`` BGR image first), uint8 (or anything
:func:`image.as_rgb_uint8` takes; RGBA is composited over black, transparent meaning background). The
map may have been resized (about 0.5x-2x, any interpolation) and/or JPEG-compressed; the size of its dots
is measured from the image. The frame's canvas is the image size; points are in its pixels, confidence
1.0. At the drawn size, points are the drawn pixels exactly (nudged to the float ``render`` draws on that
pixel), so a whole-pixel pose read back complete draws the same map again.

Method:

1. Colours (:mod:`.colours`). Pixels go to HSV. Every palette colour is fully saturated: hue names the
   part (18 body hues 20 degrees apart), value separates joints (drawn at V = 1) from their 0.6-dimmed
   limbs; black is background, white a face dot. Whether a good part of the drawn pixels keep exact
   palette colours tells a PNG map (maybe resized) from a JPEG one; whether all of them do, a map resized
   by sampling pixels (nearest neighbour).
2. Scale (:mod:`.dots`). Dots are filled disks of radius 4 at the drawn size; the most common size of the
   dot-shaped blobs of one hue (half-value threshold, which resizing preserves) gives the resize factor.
   Only blobs as bright as a dot's middle choose that size: in a map with few dots (a crop, a shrunk JPEG
   with hands), crumbs of dots split between two hues and of blurred hand lines could outnumber them.
   Sizes come in steps of a pixel of dot area (0.6x maps measure 0.53-0.66, 0.75x maps 0.69-0.81): the
   steps for small JPEG dots apply below 0.63.
3. Joint dots (:mod:`.dots`, in JPEG maps :mod:`.readings`). For each body hue a matched filter scores
   every position as a dot centre: that hue's bright pixels inside the disk count for it, black inside
   and that hue just outside the disk count against it, anything else (whatever later drawing put on top)
   is neutral. A dot partly covered by later limbs, joints, hands or faces is thus still centred on its
   visible arc. In PNG maps about the drawn size, and in maps resized by sampling pixels, a dot must also
   show its colour exactly somewhere (a bright hand line of a nearby hue never does); in the latter a dot
   is a crisp blob whose centre may fall between pixels, so its evidence is also taken half a pixel off.
   In full PNG maps at the drawn size the face's white dots, drawn last, may leave of a head dot only a
   ring or crescent of its exact colour, too little for the filter: such a piece, away from that part's
   dots, is a dot where a drawn disk holds all of it and no black pixel and the rest of that disk is
   mostly white.
   Peaks of all hues are grouped into dots; a dot keeps every hue that also peaks there as an alternative
   *reading* (small JPEG dots take colour from what is under and beside them: a nose under purple eyes
   turns pink, a knee takes its thigh's green). Dots that are blends of two touching dots whose hues lie
   either side of theirs are dropped (the closest pair explains first: an overlapping l-eye and l-ear
   make an r-ear); in PNG maps about the drawn size, where a dot shows its exact colour, none is, and
   from 0.9x on (and in resized PNG maps) nor is a dot whose core shows its own luma: blending mixes
   chroma, not luma. In shrunk JPEG maps, where chroma has about one sample per dot, the readings of a
   dot are ranked by its core's chroma (less what the ring around it blends in) *and* its luma, which
   JPEG keeps at full resolution: neighbouring palette colours differ in luma by 9-50 levels; readings
   that fit far worse than the best go, a head dot also takes a hue-neighbouring head colour its core fits
   well and better (a nose read as the l-ear), and a dot that fits none of its readings, beside a dot that
   fits its own, is that dot's blend and goes (an orange 'neck' between a red nose and a yellow elbow).
   Dots that no colour filter found are added, named the same way: bright ones (a knee on its own-coloured
   shin) and blue ones by luma (pure blue is darker than its sticks); so are faint colour peaks away from
   dots and hands (a hip taking its sticks' chroma) whose core colour names one part only and fits a dot
   better than a stick: their own part, or one a hue step off (an l-knee between its azure thigh and its
   shin peaks only in the l-hip's colour), unless the neck or within 1.5 dot radii of a dot. A dot alone
   on black (its limb neighbours missing), which JPEG blends with black only, is named by its blob's summed
   chroma and luma.
4. Stick ends (:mod:`.sticks`). A drawn limb's stick leaving a dot ends at the dot of the limb's other
   joint; the dot at the far end of a stick of that limb's colour gets that joint as a low-priority
   reading. This finds joints whose dot is covered (the body's wrist under a hand's wrist dot) or whose
   hue JPEG moved.
5. People (:mod:`.sticks`, :mod:`.people`, :mod:`.heads`). For each of the 17 drawn limbs and each pair
   of readings of its two parts, the stick the renderer would have drawn between them (an ellipse whose
   long axis joins the centres, or on a long stick is turned off that line by up to a degree as the
   renderer does, minus the two dots on top) is sampled: it must show the limb's colour on a good share
   of what later sticks leave uncovered, and almost never black (other colours count as covered; so does
   the next limb's colour where it crosses the stick, or where it is the blend of the stick with the
   stick two colours on or a dot drawn over it, while elsewhere a neighbouring limb's colour means the
   stick is that limb's; black where JPEG cancelled the chroma of a dark blue stick drawn over it is
   cover too). A link ending on a dot drawn over a longer stick of the same limb gives way to that stick
   when its far dot has nothing else, or when the link reads that dot as other than its best part (an ankle
   on another person's shin also read as the knee). Dots too close for their stick to show are joined at a
   low score when no black lies between them: head dots (whose short sticks hide under them, or in JPEG
   take a neighbouring hue) on that alone, others when the limb's colour shows on the line between them
   (and off it: a hand line is thin). Links are merged best first (Kruskal style) into people that never
   hold two readings of one part or two readings of one dot; a person made only of second finds of a larger
   person's dots (JPEG may find a dot twice, a little apart in a neighbouring hue) goes. Then each person's
   head dots are labelled together: the readings of its head dots and of loose head dots it reaches (in
   JPEG also a neighbouring head colour toward which a dot's core hue drifted) whose head links sum
   highest, less what other heads lose, win; in JPEG about the drawn size a dot's other readings count for
   as much of its core as shows their luma. Ears (whose shoulder sticks are not drawn) join through their
   eyes, or else the nearest head that lacks them. Unjoined dots stand alone as one-point people if they
   are strong (less so with no dot near, where no blend of two dots can arise, when they lie on black or,
   in JPEG maps, when their core colour names their part away from hands: not blue, nor in shrunk maps
   the l-hip's azure-blue, which blends of blue and cyan take) and
   unambiguous; a lone blue dot (the left knee's colour, also every hand dot's) only when no blue dot other
   than people's joints is near and it is no dot of a hand found in step 7 (a big hand's dots lie far
   apart), and, in shrunk maps, no blue as bright as a dot lies all about it (a hand's dots there blend
   into a tangle that no dot search picks apart; a knee alone has black about it), nor, about a left knee,
   some such blue where neither of the knee's sticks shows (a knee that nothing joined keeps its sticks).
   In shrunk JPEG maps such a knee, kept once the hands are read, then takes its faint blue-violet l-ankle
   where its shin ends on black, at a loose ankle dot or at an ankle that step 6 left standing alone (which
   then joins it), as step 6 adds joints to the people.
6. Redrawing (:mod:`.redraw`, :mod:`.placing`; JPEG maps: PNG maps, resized or not, keep exact colours): the people
   are drawn again the way the renderer draws them, at the map's scale, and compared with the map. Two pieces of a
   person whose stick between them looked too patchy are joined (also when both hold one part: the r-shoulder's dot
   also read as the neck may take the left arm away), and joints that nothing drawn explains (blends of two dots)
   are dropped, when the drawing they change fits the colour the map shows there; two joints of a limb a hue step
   apart (an elbow and its wrist) that were read the wrong way round trade places when that fits, if no other joint
   lies by either dot (a dot under another shows no colour to decide). Two people who share at least as many joints
   within 1.5 dot radii of each other as farther apart are one person whose dots JPEG found twice, the finds linked
   to different sticks (the second find's piece may hold a wrong find of another part too): they join, the larger
   one's points kept where the shared joints lie apart. In shrunk maps (about one chroma sample per dot) a head
   whose nose was read as the pink l-ear or the orange neck joins its neck through that dot renamed nose, when the
   neck-nose stick that this draws fits; and, once the hand pieces below are set aside, a limb joint whose dot lost
   its colour is added where its stick, leaving the person, ends on black, or where it meets the joint's other
   stick, leaving another piece (which then joins), or (an elbow or knee whose far joint lies beyond the border)
   where its stick ends well inside the map and its other stick leaves it bending by 20-90 degrees and runs off the
   map. In any JPEG map a dot left loose joins a person lacking that part: a head dot the head beside it (an ear
   without its eye, which JPEG dims with no stick to draw, on a looser fit when clear of other joints), a limb dot
   (a wrist whose forearm looked too patchy to link) a person holding the joint its stick would join, or else
   such a person's joint of its part elsewhere, in its place (a crumb of a thigh read as the
   l-hip, the hip's dot left loose), where drawing it there gains and fits, the person drawn where it is or
   under everyone (a piece read apart from its person was drawn with it, under its dots); in shrunk JPEG
   maps faint wrists, ankles and ears named by their core colour (a wrist on another person's stick of its own
   hue, an ear beside an elbow) are loose dots too, as are faint dots of parts coloured like their own stick (an
   l-hip at its thigh's end) whose core fits that stick too, unless another reading of the part lies within two
   dot radii, and a dot is no loose dot of a part its core colour rules out (a nose blended with its l-ear, read
   by the neck's filter, would join its head as a neck). A limb dot still loose and too faint to stand alone by
   its colour (a wrist whose elbow is missing, half under a neck or under a later person's ear; a blue-violet
   l-ankle, but not the l-knee's hand-dot blue nor the l-hip's azure) stands alone when drawing it there (under
   everyone or over everyone, whichever fits better), wholly inside the map, fits it (loosely), better as its part
   than as any other, and no unexplained stick leaves it (a joint alone has no drawn neighbour); in shrunk maps
   the check of pieces then runs once more, as an added joint may be the one two pieces lacked to join.
   Also in shrunk maps: a piece joins a body holding the same limb part through that dot renamed to its hue
   neighbour (an r-wrist's lime read as the l-shoulder's green), a stick that another is drawn across goes on past
   the crossing (and one whose first part hides under other dots is found past them), and a lone dot on another
   person's joint of the next hue is that joint read twice and goes; an eye and its ear (or an eye alone) left as a
   piece of their own (the nose-eye stick hidden under the head's dots) join the one head whose nose is within 4
   dot radii of the eye, and where that head's eye lies beyond its other eye, on that side, its eye was the other
   ear. Dots read twice go: a person holding two head parts on one spot gives one of them the point of the lone dot
   of that part beside the head, and a piece's neck on a larger person's shoulder dot is that shoulder (the piece
   joins the person), and of a person's two joints less than half a dot radius apart (one dot read as two parts) the
   one whose drop costs least goes, when that cost is a tenth of a dot's drawing or less; a loose head dot read as
   a part its head holds (an l-ear's pink as the nose's red) is that head's missing ear when it lies beyond the eye
   of that side. A lone azure or blue dot (r-ankle, l-hip, l-knee) on another person's stick of a colour like its
   own is the blend of overlapping cyan and blue sticks, not a joint. In any JPEG map a one-joint person whose dot,
   drawn over everyone (a dot that was seen is on top), makes the drawing worse is a crumb of a stick and goes.
   Last, JPEG smears chroma across dot edges (an l-ear drawn over its l-eye pulls the eye's colour centre up to 2
   px away) but keeps luma at full resolution: in JPEG maps, each joint is re-centred, within 2 px (3 px for the
   blue-ish leg joints), on the pixels with its luma and roughly its hue (a blue knee that slid along its lighter
   thigh comes back to the pixels as dark as pure blue). In shrunk JPEG maps each limb joint then goes, within 3
   px, to where drawing the people again fits the map best, when that removes a third of the mismatch around it and
   adds almost none anywhere (:mod:`.refine`); two people whose dots JPEG found twice, too far apart to join before
   (a neck found 4 px apart in a 0.6x map), may now share joints on one spot, and join as above.
7. Hands (``hands``, :mod:`.hands`). Blue dots that are not people's left knees (in JPEG, nor their
   blue-ish hips and ankles), joined pairwise by straight thin lines of one of the 20 hand-edge hues with
   no other dot on the way, are labelled by the edges' colours (a dot on two edges of different colours
   is the point they share; labels spread along the edges), best links first while the labels stay
   consistent; a finger cut off from its palm is put back into the nearest hand. Each hand goes to the
   person whose wrist it sits on (right wrist -> right hand), else to the elbow whose forearm's colour
   shows on the way to it (the body's wrist hides under the hand's wrist dot); a hand with no person near
   is returned on a person without body, as its ``left_hand`` (without an arm, which hand it is is not
   read), when it has three points or more (two dots joined by one line there are mostly a false link
   between two fingertips). In JPEG maps a body piece made only of blue-ish
   joints on a hand's dots and lines (two hand dots joined by a hand line pass for a blue thigh) is that
   hand's, also when JPEG broke the hand into pieces and the body piece spans two, in shrunk maps when
   dot-bright blue lies all about each of its points (the hand's tangle of blended dots), and when one of
   its limbs is drawn thinner than half a stick (a hand line of the ring finger, whose hues are the thigh's
   and shin's) with such blue about one of its points (at 0.75x and up a hip or ankle of it whose own
   colour shows stays alone). In any JPEG map
   a joint whose own colour does not show, with dot-bright blue about it, lying more than 6 dot radii past
   where the colour of its limb from its person's other joint stops (the stick read on, past a hand lying
   over it, to one of the hand's dots) is not there, and goes; in a shrunk map a wrist in a hand's tangle
   goes back to 2 dot radii past that end instead (its hand's wrist dot covers it there). A joint other
   than a wrist on a blue dot that no person took (a hand's dot), its own colour not showing, goes too.
   Then, in JPEG maps, a head whose labels break the layout of a face (r-ear, r-eye, nose, l-eye, l-ear in
   this order along the line through the eyes, or through the ears when an eye is missing) took a hue
   neighbour's label for some of its dots (an l-ear read as the nose and the nose as the l-ear): its dots
   take the labels, each a hue step at most from its own, that mend the layout with the fewest changes,
   when only one relabelling does, no eye is lost and an eye (along the ears, also an ear) keeps its
   label; after such a change the pieces are checked by drawing once more (a nose that was read as an ear
   may now join its body). In shrunk JPEG maps a head still breaking the layout takes, of the relabellings
   that mend it, the one whose drawing fits the map best, if it fits better than the head as read
   (:func:`.refine.relabel_broken_heads`); a head with its nose and neck but neither dot of one side takes
   that side's eye and ear in place of their blend (overlapping, they make one dot of the hue between
   theirs: an l-eye and l-ear read as an r-ear, an r-eye and r-ear as an l-eye), its own dot of that label
   across the neck-to-nose line from the other side's dots (held, or a piece that joins it) or a lone head
   dot where the held eye and ear mirror to, split the way that keeps a face's layout and draws best, if it
   fits better (:func:`.refine.split_eye_ear_blends`); a head piece or lone head dot by a body's head joins it under the
   labels that keep the layout and draw best (a piece of two dots its own, unless none keep it), if that fits
   better than the piece apart (:func:`.refine.join_head_pieces`); a neck takes the head pieces up its stick,
   with the head dots it holds,
   under the labels that hold a nose, keep the layout and draw best, or at half size as read with a hidden nose
   added where drawing it fits (:func:`.refine.join_heads_to_necks`); and a
   head dot never read (an l-eye half under its l-ear) is added
   where its dot and sticks draw what the map shows, when its stick reaches a joint the body holds
   (:func:`.refine.add_hidden_head_dots`). Last, with the joints moved onto their dots and the heads
   settled, the pieces are checked by drawing once more (step 6, without renaming): the stick between two
   pieces, drawn off its place before (a neck 2 px off its dot), may fit now, and a joint that the settled
   heads leave unexplained goes; so does a joint standing alone, not a wrist, ankle or ear, whose core
   colour rules out its part (the blend of two dots, a crumb of a stick), unless its core names the part a
   hue step off (not to or from the neck): it is that part.
8. Face (``face``, :mod:`.face`). White dots (radius 3) are grouped into faces first: two dots link when
   closer than 2.5x the larger of their distances to their nearest dot (a face's dots chain densely, two
   faces lie apart); a group of well over 70 dots (touching faces) is split by k-means into about 70 each.
   One face is one head: pieces made only of head dots within a face (whose short sticks hide under its
   dots) join the one person whose neck is by it, where their parts are missing (whatever ``face`` says).
   Each group goes to the nearest head within reach (else to a person whose joints it reaches: face dots
   may hide the head's own); groups at one person merge while they fit one face, else it keeps the
   largest. A group of 20 dots or more that no person takes is returned on a person without body (fewer
   are stray white). Dots are put in landmark order by fitting an approximate mean face (similarity
   transform + optimal matching), which keeps the 70 that fit best.

Limitations (see tests/test_skeleton_image.py for the measured rates):
- A joint whose dot is mostly covered is left out (joints are never invented on purpose: they come from
  dots, or in shrunk JPEG maps from a stick ending on black or a hidden head dot's drawing); a joint
  whose dot is covered by another dot may still join its person through its sticks, and is then left out
  too, its place being unknown. The
  exception is the body's wrist under its hand's wrist dot (every hand drawn covers one): it is put on its
  forearm's axis nearest the hand's dot, a pixel or two off where nothing shows how far along it lies.
- Two people's same joints drawn within about a dot radius read as one dot, which only one of them
  gets; the other may then take the wrong sticks.
- Two people join only through a stick that shows: people whose shared sticks are hidden come back
  split (each piece pure), e.g. a head without its nose is a separate group.
- JPEG (quality 75) costs a few joints where dots crowd (heads: five dots of neighbouring purples and
  reds): over 300 random scenes of 1-5 people, every visible joint comes back at the drawn size (one joint
  read back names the wrong part; 692 of 700 more scenes come back whole) and 99.9 % at 0.75x. Maps shrunk
  to half size *and* JPEG-compressed keep about one chroma sample per dot: a blue knee on its blue shin
  differs from it mostly in luma, crowded heads blend; there 98.9 % come back and 0.7 % of the joints read
  back name the wrong part. In JPEG, bits of hand lines next to hand dots
  can still pass for a blue-ish thigh or shin (0.6 % of joints at the drawn size with hands drawn, 0.8 %
  at 0.75x, 2.0 % at 0.5x). Maps shrunk by sampling pixels (nearest neighbour) and then JPEG-compressed are
  harder still: the half-pixel dot evidence that rescues their PNG form is not used in JPEG maps, where it
  made two people's close same-part dots swap.
- Hands are read when their dots stand apart (fingers at least a dot or so apart); overlapping dots of
  small hands merge. Face landmark identities are approximate (positions are exact); faces far from
  the mean shape may come back partly out of order.
- Non-uniform resizing is handled for the dot shape only; maps drawn with other styles (ControlNet 1.0
  blending, DWPose-style widths) are not the target.
"""
from .read import pose_from_skeleton_image

__all__ = ["pose_from_skeleton_image"]

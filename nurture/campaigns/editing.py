"""What happens to enrolments in flight when a campaign file is edited.

Pure rules over two versions of a campaign; the engine applies them when it finds an
enrolment whose version is not the campaign's active one. The rules (also in
docs/campaigns.md, "Editing a live campaign"):

1. An enrolment stays at its step id if the new version still has that step in its track.
2. If the step was removed, it moves to the first step that followed it in the old version
   and still exists in the new one; if none does, the enrolment completes.
3. If its whole track was removed, it goes to the track that matches the lead now, from that
   track's first step.
4. Emails already received are never sent again: the engine skips a send step whose template
   the enrolment already sent (``LeadFacts.sent_templates``), whatever version it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from nurture.campaigns.spec import Campaign


def remap_position(
    old: Campaign, new: Campaign, track_id: str, step_id: str | None
) -> tuple[str | None, str | None]:
    """Where an enrolment at ``track_id``/``step_id`` in ``old`` continues in ``new``.

    Returns ``(track, step)``:

    - ``(track, step)``: continue at that step of that track;
    - ``(track, None)``: nothing of the rest of its path is left: complete the enrolment;
    - ``(None, None)``: the track is gone: pick the track matching the lead now and start
      it from its first step.

    ``step_id`` None (enrolled, first step not run yet) maps to the first step of the track
    in ``new``.
    """
    new_track = new.track(track_id)
    if new_track is None:
        return None, None
    new_ids = new_track.step_ids()
    if step_id is None:
        return track_id, new_ids[0] if new_ids else None
    if step_id in new_ids:
        return track_id, step_id
    old_track = old.track(track_id)
    if old_track is None:
        return track_id, None
    old_ids = old_track.step_ids()
    if step_id not in old_ids:
        return track_id, None
    following = old_ids[old_ids.index(step_id) + 1 :]
    return track_id, next((candidate for candidate in following if candidate in new_ids), None)


@dataclass(frozen=True)
class VersionChanges:
    """What an edit removed, so the sync report can say where enrolments will move."""

    removed_tracks: tuple[str, ...]
    # (track, step, where enrolments there continue: a step id, or None = they complete)
    removed_steps: tuple[tuple[str, str, str | None], ...]

    def __bool__(self) -> bool:
        return bool(self.removed_tracks or self.removed_steps)

    def describe(self) -> list[str]:
        """One line per removal, in words."""
        lines = [
            f"track {track!r} removed: its enrolments move to the track matching each lead"
            for track in self.removed_tracks
        ]
        for track, step, target in self.removed_steps:
            where = f"continue at {target!r}" if target else "complete"
            lines.append(f"step {track}/{step} removed: enrolments there {where}")
        return lines


def version_changes(old: Campaign, new: Campaign) -> VersionChanges:
    """The tracks and steps of ``old`` that ``new`` no longer has, with their remapping."""
    removed_tracks: list[str] = []
    removed_steps: list[tuple[str, str, str | None]] = []
    for track in old.tracks:
        new_track = new.track(track.id)
        if new_track is None:
            removed_tracks.append(track.id)
            continue
        for step_id in track.step_ids():
            if step_id not in new_track.step_ids():
                _, target = remap_position(old, new, track.id, step_id)
                removed_steps.append((track.id, step_id, target))
    return VersionChanges(tuple(removed_tracks), tuple(removed_steps))

"""The session summary's fields: one int each in Engine.summary, in output order.

pacer.eventfmt names them in the summary event (a "_cp" suffix becomes "_cmH2O"); the engine
fills them, pacer.verdict grades them and the app shows them, each by its S_* index.
"""
from pacer._compat import const

SUMMARY_FIELDS = (
    "duration_ms", "completed", "reps", "reps_achieved", "flicks_achieved", "mean_rise_cp",
    "mean_held_ms", "mean_relax_ms", "reps_not_relaxed", "bearing_down", "coughs",
    "tension_episodes", "overpressure_alarms", "overhold_alarms", "baseline_cp", "pre_baseline_cp",
    "post_baseline_cp", "returned_to_rest", "relax_quality_pct", "fatigue_cp_per_min", "mvc_cp",
    "mvc_source", "target_cp", "drift_cp", "leak", "faults", "drops", "drops_achieved",
    "mean_drop_cp", "paradoxical", "pushes", "pushes_judged", "pushes_coordinated",
    "rest_tone_change_cp", "grade")
(S_DURATION, S_COMPLETED, S_REPS, S_ACHIEVED, S_FLICKS, S_PEAK, S_HELD, S_RELAX, S_NORELAX,
 S_BEAR, S_COUGHS, S_TENSION, S_OVER, S_OVERHOLD, S_BASELINE, S_PRE, S_POST, S_RETURNED,
 S_RQUAL, S_FATIGUE, S_MVC, S_MVCSRC, S_TARGET, S_DRIFT, S_LEAK, S_FAULTS, S_DROPS, S_DROPS_OK,
 S_DROP_MEAN, S_PARADOX, S_PUSHES, S_PUSHES_JUDGED, S_PUSHES_OK, S_TONE, S_GRADE) = range(35)
N_FIELDS = const(35)



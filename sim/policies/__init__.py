"""Management policies as mechanisms in the model, never as multipliers of outcomes.

Each policy is a process or a rule that acts on the model's state the way the real practice
would, and every effect it assumes is a named scenario parameter:

- ``committee``: a recurring delivery committee that acts on orders at risk (reserves and
  expedites their kits, moves them up the dispatch queue, tells customers a new date);
- ``voice_of_customer``: a recurring session after which installers' rework probability falls
  towards a floor;
- ``shared_kpi``: on-time delivery in everyone's score makes sales quote and dispatch order by
  promise date;
- ``forecast_capacity``: a weekly planning round that adds overtime or flex crews when the
  forecast load is high.

The integrated platform and lean approvals need no module: they are existing scenario switches
(hand-off mode, stock visibility, reservation, review, kit check, routing, approvals), set by
overlays in ``scenarios/policies/``. With its section disabled or neutral, no policy schedules an
event or draws a random number, so the baseline's run is unchanged.
"""

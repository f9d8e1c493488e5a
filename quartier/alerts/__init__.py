"""Early warning: Hinweise after a delivery (:mod:`quartier.alerts.hinweise`) and comparable areas
(:mod:`quartier.alerts.similar`). Above the index (``quartier.need``), below reports and the surfaces."""

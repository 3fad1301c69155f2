"""The patrol forms' radio inputs, written by a template macro, are the ones WTForms writes."""

from __future__ import annotations

import re

from flask import get_template_attribute

from elevator_safety.patrols import checklists, forms

RADIO = re.compile(r"<input[^>]*type=\"radio\"[^>]*>")


def widget_inputs(field) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(option()) for option in field]


def macro_inputs(field) -> list[str]:  # type: ignore[no-untyped-def]
    choices = get_template_attribute("patrols/_macros.html", "choices")
    return RADIO.findall(str(choices(field, "label")))


def test_patrol_radios_match_the_widgets_checked_or_not(app):
    items = checklists.current_for("traction").items_for("traction")
    posted = {"doors__result": "fail", "misuse_action": "reported"}
    with app.test_request_context("/", method="POST", data=posted):
        form = forms.make_patrol_form(items)
        form.validate()
        radios = [field for field in form if field.type == "RadioField"]
        assert len(radios) > 10
        for field in radios:
            assert macro_inputs(field) == widget_inputs(field), field.name
        assert 'checked id="doors__result-1"' in macro_inputs(form["doors__result"])[1]


def test_options_with_extra_attributes_still_go_through_the_widget(app):
    with app.test_request_context("/", method="POST", data={}):
        field = forms.OutOfServiceForm().status_seen
        field.render_kw = {"data-x": "1"}
        inputs = macro_inputs(field)
        assert inputs == widget_inputs(field)
        assert inputs
        assert all('data-x="1"' in tag for tag in inputs)

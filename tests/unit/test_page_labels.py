"""PageLabels (portal.i18n, issue 15): each label is made text once per page, on first use."""
from portal.i18n import PageLabels


class Lazy:
    def __init__(self, text):
        self.text, self.made = text, 0

    def __str__(self):
        self.made += 1
        return self.text


def test_each_label_is_translated_once_and_unknown_codes_behave_as_in_a_dict():
    active = Lazy("Active")
    labels = PageLabels({"active": active, "broken": Lazy("Broken")})
    assert [labels["active"] for _ in range(50)] == ["Active"] * 50
    assert active.made == 1
    assert labels.get("broken") == "Broken" and labels.get("nope", "No plan") == "No plan"
    assert labels.get("nope") is None
    try:
        labels["nope"]
    except KeyError:
        pass
    else:
        raise AssertionError("an unknown code is a KeyError, as in the labels themselves")

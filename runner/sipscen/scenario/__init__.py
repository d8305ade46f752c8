"""Scenario files: YAML with line marks -> JSON Schema -> variables -> the frozen model
(``sipscen.core.model``). What the words of a file mean lives in ``sipscen.language``;
this package reads files and says where they are wrong (FILE:LINE:COL).

    load_scenario(path, variables)   one Scenario (raises ScenarioError)
    load_scenarios(path, variables)  one Scenario per `parametrize:` set
    validate_file(path, variables)   every ScenarioError of a file, [] when valid
    resolve_references(text, contacts, scenario_dir)   ${bob.uri} etc. at plan time
"""
from sipscen.scenario.build import load_scenario, load_scenarios, validate_file
from sipscen.scenario.schema import load_schema
from sipscen.scenario.variables import resolve_references

__all__ = ["load_scenario", "load_scenarios", "validate_file", "load_schema",
           "resolve_references"]

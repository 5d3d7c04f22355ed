//! template.yaml as CloudFormation would see it for given parameter values, for the
//! template tests (tests/template_iam.rs, tests/template_params.rs).
//!
//! Short-form tags (`!Sub x`) become long form (`{Fn::Sub: x}`); Conditions, `Fn::If`,
//! `AWS::NoValue`, `Fn::Select`/`Fn::Split`/`Fn::Join` and template `Rules` are
//! evaluated; `Ref`/`Fn::Sub`/`Fn::GetAtt` render as strings in which parameters (and
//! pseudo parameters, when a test sets them) are substituted and anything else stays
//! `${Name}` (resource references, SAM's `Function.Alias`).

// Each test crate that includes this module uses a different part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_yaml::{Mapping, Value};

/// The raw template in long form.
pub fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let raw: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    long_form(raw)
}

fn long_form(value: Value) -> Value {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = long_form(tagged.value);
            let inner = match (name, inner) {
                ("GetAtt", Value::String(s)) => {
                    let (resource, attribute) = s.split_once('.').expect("!GetAtt Resource.Attribute");
                    Value::Sequence(vec![resource.into(), attribute.into()])
                }
                (_, inner) => inner,
            };
            let key = match name {
                "Ref" | "Condition" => name.to_owned(),
                other => format!("Fn::{other}"),
            };
            single(&key, inner)
        }
        Value::Sequence(items) => Value::Sequence(items.into_iter().map(long_form).collect()),
        Value::Mapping(map) => Value::Mapping(map.into_iter().map(|(k, v)| (k, long_form(v))).collect()),
        other => other,
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Mapping::new();
    map.insert(key.into(), value);
    Value::Mapping(map)
}

/// The template as deployed with some parameter values.
pub struct Deployment {
    pub template: Value,
    pub parameters: BTreeMap<String, String>,
}

impl Deployment {
    /// Defaults plus `overrides`; pseudo parameters stay unresolved (`${AWS::Region}`).
    pub fn new(overrides: &[(&str, &str)]) -> Self {
        let template = template();
        let mut parameters = BTreeMap::new();
        let declared = template["Parameters"].as_mapping().expect("template has Parameters");
        for (name, spec) in declared {
            let name = name.as_str().expect("parameter name");
            if let Some(default) = scalar(&spec["Default"]) {
                parameters.insert(name.to_owned(), default);
            }
        }
        for (name, value) in overrides {
            assert!(
                declared.contains_key(*name) || name.starts_with("AWS::"),
                "scenario sets undeclared parameter {name}"
            );
            parameters.insert((*name).to_owned(), (*value).to_owned());
        }
        Self { template, parameters }
    }

    pub fn condition(&self, name: &str) -> bool {
        let expr = &self.template["Conditions"][name];
        assert!(!expr.is_null(), "condition {name} is not declared");
        self.truth(expr)
    }

    pub fn truth(&self, expr: &Value) -> bool {
        let (key, args) = only_entry(expr).unwrap_or_else(|| panic!("not a condition expression: {expr:?}"));
        let list = || args.as_sequence().expect("condition arguments are a list");
        match key {
            "Fn::Equals" => {
                let l = list();
                self.render(&l[0]) == self.render(&l[1])
            }
            "Fn::Not" => !self.truth(&list()[0]),
            "Fn::And" => list().iter().all(|e| self.truth(e)),
            "Fn::Or" => list().iter().any(|e| self.truth(e)),
            "Condition" => self.condition(args.as_str().expect("condition name")),
            other => panic!("unsupported condition function {other}"),
        }
    }

    /// Names of the template `Rules` these parameters break (CloudFormation refuses the
    /// stack before creating anything), with the failed assertions' descriptions.
    pub fn broken_rules(&self) -> Vec<(String, String)> {
        let mut broken = Vec::new();
        let Some(rules) = self.template["Rules"].as_mapping() else {
            return broken;
        };
        for (name, rule) in rules {
            let applies = rule["RuleCondition"].is_null() || self.truth(&rule["RuleCondition"]);
            if !applies {
                continue;
            }
            for assertion in rule["Assertions"].as_sequence().expect("Assertions") {
                if !self.truth(&assertion["Assert"]) {
                    broken.push((
                        name.as_str().unwrap().to_owned(),
                        scalar(&assertion["AssertDescription"]).unwrap_or_default(),
                    ));
                }
            }
        }
        broken
    }

    /// Resolves a value; `None` means it was `AWS::NoValue` and disappears.
    pub fn resolve(&self, value: &Value) -> Option<Value> {
        if let Some((key, args)) = only_entry(value) {
            match key {
                "Fn::If" => {
                    let a = args.as_sequence().expect("Fn::If takes a list");
                    let branch = if self.condition(a[0].as_str().expect("condition name")) {
                        &a[1]
                    } else {
                        &a[2]
                    };
                    return self.resolve(branch);
                }
                "Ref" if args.as_str() == Some("AWS::NoValue") => return None,
                "Ref" | "Fn::Sub" | "Fn::GetAtt" | "Fn::Join" | "Fn::Select" => {
                    return Some(Value::String(self.render(value)))
                }
                "Fn::Split" => {
                    return Some(Value::Sequence(
                        self.list(value).into_iter().map(Value::String).collect(),
                    ))
                }
                _ => {}
            }
        }
        Some(match value {
            Value::Sequence(items) => Value::Sequence(items.iter().filter_map(|v| self.resolve(v)).collect()),
            Value::Mapping(map) => Value::Mapping(
                map.iter()
                    .filter_map(|(k, v)| self.resolve(v).map(|v| (k.clone(), v)))
                    .collect(),
            ),
            other => other.clone(),
        })
    }

    /// A list-valued expression (`Fn::Split`, a sequence) as strings.
    pub fn list(&self, value: &Value) -> Vec<String> {
        if let Some(("Fn::Split", args)) = only_entry(value) {
            let a = args.as_sequence().expect("Fn::Split list");
            let separator = scalar(&a[0]).expect("Fn::Split separator");
            return self
                .render(&a[1])
                .split(separator.as_str())
                .map(str::to_owned)
                .collect();
        }
        match self.resolve(value) {
            Some(Value::Sequence(items)) => items.iter().map(|v| self.render(v)).collect(),
            Some(other) => vec![self.render(&other)],
            None => Vec::new(),
        }
    }

    pub fn render(&self, value: &Value) -> String {
        if let Some(s) = scalar(value) {
            return s;
        }
        let (key, args) = only_entry(value).unwrap_or_else(|| panic!("cannot render {value:?} as a string"));
        match key {
            "Ref" => {
                let name = args.as_str().expect("Ref name");
                self.parameters
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| format!("${{{name}}}"))
            }
            "Fn::GetAtt" => {
                let a = args.as_sequence().expect("GetAtt list");
                format!("${{{}.{}}}", self.render(&a[0]), self.render(&a[1]))
            }
            "Fn::Join" => {
                let a = args.as_sequence().expect("Fn::Join list");
                let separator = scalar(&a[0]).expect("Fn::Join separator");
                self.list(&a[1]).join(&separator)
            }
            "Fn::Select" => {
                let a = args.as_sequence().expect("Fn::Select list");
                let index: usize = self.render(&a[0]).parse().expect("Fn::Select index");
                self.list(&a[1]).get(index).cloned().unwrap_or_default()
            }
            "Fn::Sub" => {
                let (text, vars) = match args {
                    Value::String(s) => (s.clone(), BTreeMap::new()),
                    Value::Sequence(a) => {
                        let vars = a[1]
                            .as_mapping()
                            .expect("Fn::Sub variables")
                            .iter()
                            .map(|(k, v)| (k.as_str().expect("variable name").to_owned(), self.render(v)))
                            .collect();
                        (a[0].as_str().expect("Fn::Sub text").to_owned(), vars)
                    }
                    other => panic!("bad Fn::Sub {other:?}"),
                };
                substitute(&text, |name| {
                    vars.get(name).or_else(|| self.parameters.get(name)).cloned()
                })
            }
            "Fn::If" => self.render(
                &self
                    .resolve(value)
                    .expect("Fn::If used as a string resolved to NoValue"),
            ),
            other => panic!("cannot render {other} as a string"),
        }
    }

    /// Whether a resource is part of this deployment (its Condition holds).
    pub fn deploys(&self, name: &str) -> bool {
        let resource = &self.template["Resources"][name];
        assert!(!resource.is_null(), "resource {name} is not declared");
        resource["Condition"].as_str().is_none_or(|c| self.condition(c))
    }

    pub fn resource(&self, name: &str) -> Value {
        assert!(self.deploys(name), "resource {name} is not deployed in this scenario");
        self.resolve(&self.template["Resources"][name])
            .expect("a resource cannot be NoValue")
    }

    pub fn resources_of_type(&self, kind: &str) -> Vec<(String, Value)> {
        let all = self.template["Resources"].as_mapping().expect("Resources");
        all.iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .filter(|(_, r)| r["Condition"].as_str().is_none_or(|c| self.condition(c)))
            .map(|(n, r)| (n.as_str().unwrap().to_owned(), self.resolve(r).unwrap()))
            .collect()
    }

    /// A function's property, falling back to `Globals.Function` as SAM does.
    pub fn function_property(&self, function: &str, property: &str) -> Value {
        let own = self.resource(function)["Properties"][property].clone();
        if !own.is_null() {
            return own;
        }
        self.resolve(&self.template["Globals"]["Function"][property])
            .unwrap_or(Value::Null)
    }

    /// A function's environment: `Globals.Function` variables merged with its own.
    pub fn function_env(&self, function: &str) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let globals = self.resolve(&self.template["Globals"]["Function"]["Environment"]["Variables"]);
        let own = self.resource(function)["Properties"]["Environment"]["Variables"].clone();
        for vars in [globals.unwrap_or(Value::Null), own] {
            for (k, v) in vars.as_mapping().into_iter().flatten() {
                env.insert(k.as_str().unwrap().to_owned(), self.render(v));
            }
        }
        env
    }

    /// The logical ID of the role a SAM resource runs with (`Role: !GetAtt X.Arn`).
    pub fn role_of(&self, resource: &str) -> String {
        let properties = &self.resource(resource)["Properties"];
        assert!(
            properties["Policies"].is_null(),
            "{resource} has SAM Policies; they would create a second, unchecked role"
        );
        let role = properties["Role"]
            .as_str()
            .unwrap_or_else(|| panic!("{resource} has no explicit Role"));
        role.strip_prefix("${")
            .and_then(|r| r.strip_suffix(".Arn}"))
            .unwrap_or_else(|| panic!("{resource} Role should be !GetAtt <Role>.Arn, got {role}"))
            .to_owned()
    }

    /// Every statement in force for the role: inline policies plus any
    /// AWS::IAM::Policy / ManagedPolicy resources attached to it.
    pub fn statements(&self, role: &str) -> Vec<Statement> {
        let role_resource = self.resource(role);
        assert_eq!(
            role_resource["Type"].as_str(),
            Some("AWS::IAM::Role"),
            "{role} is not an AWS::IAM::Role"
        );
        let mut documents = Vec::new();
        for policy in role_resource["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            documents.push(policy["PolicyDocument"].clone());
        }
        for kind in ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"] {
            for (_, policy) in self.resources_of_type(kind) {
                let roles = &policy["Properties"]["Roles"];
                if roles
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .any(|r| r.as_str() == Some(&format!("${{{role}}}")))
                {
                    documents.push(policy["Properties"]["PolicyDocument"].clone());
                }
            }
        }
        documents.iter().flat_map(|d| statements_of(d, role)).collect()
    }

    /// The Allow statements in force for the role.
    pub fn allow_statements(&self, role: &str) -> Vec<Statement> {
        self.statements(role).into_iter().filter(|s| s.allow).collect()
    }

    pub fn managed_policy_arns(&self, role: &str) -> Vec<String> {
        strings(&self.resource(role)["Properties"]["ManagedPolicyArns"])
    }
}

/// One IAM statement, resolved.
#[derive(Debug, Clone)]
pub struct Statement {
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub condition: Value,
    pub principal: Value,
}

pub fn statements_of(document: &Value, owner: &str) -> Vec<Statement> {
    let raw = match &document["Statement"] {
        Value::Sequence(items) => items.clone(),
        one @ Value::Mapping(_) => vec![one.clone()],
        other => panic!("{owner}: Statement is {other:?}"),
    };
    raw.into_iter()
        .map(|s| {
            assert!(
                s["NotAction"].is_null() && s["NotResource"].is_null() && s["NotPrincipal"].is_null(),
                "{owner}: NotAction/NotResource/NotPrincipal in {s:?}"
            );
            Statement {
                allow: s["Effect"].as_str() == Some("Allow"),
                actions: strings(&s["Action"]),
                resources: strings(&s["Resource"]),
                condition: s["Condition"].clone(),
                principal: s["Principal"].clone(),
            }
        })
        .collect()
}

/// action -> resources it is granted on.
pub fn grants(statements: &[Statement]) -> BTreeMap<String, BTreeSet<String>> {
    let mut grants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in statements.iter().filter(|s| s.allow) {
        for action in &s.actions {
            grants
                .entry(action.clone())
                .or_default()
                .extend(s.resources.iter().cloned());
        }
    }
    grants
}

pub fn only_entry(value: &Value) -> Option<(&str, &Value)> {
    let map = value.as_mapping()?;
    if map.len() != 1 {
        return None;
    }
    let (k, v) = map.iter().next()?;
    let k = k.as_str()?;
    (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then_some((k, v))
}

pub fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Sequence(items) => items.iter().map(|v| scalar(v).expect("a string")).collect(),
        other => vec![scalar(other).unwrap_or_else(|| panic!("expected a string or list, got {other:?}"))],
    }
}

/// `${Name}` -> lookup(Name), or left as is when lookup has nothing (pseudo parameters,
/// resource attributes). `${!Literal}` is an escaped literal.
pub fn substitute(text: &str, mut lookup: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').expect("unterminated ${ in Fn::Sub");
        let name = &after[..end];
        match name.strip_prefix('!') {
            Some(literal) => out.push_str(&format!("${{{literal}}}")),
            None => out.push_str(&lookup(name).unwrap_or_else(|| format!("${{{name}}}"))),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Names referenced by `Ref` or inside `Fn::Sub` strings anywhere in `value`.
pub fn references(value: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    collect_references(value, &mut found);
    found
}

fn collect_references(value: &Value, found: &mut BTreeSet<String>) {
    if let Some((key, args)) = only_entry(value) {
        match key {
            "Ref" => {
                found.insert(args.as_str().unwrap_or_default().to_owned());
                return;
            }
            "Fn::Sub" => {
                let text = match args {
                    Value::String(s) => s.clone(),
                    Value::Sequence(a) => {
                        collect_references(&a[1], found);
                        a[0].as_str().unwrap_or_default().to_owned()
                    }
                    _ => String::new(),
                };
                substitute(&text, |name| {
                    found.insert(name.to_owned());
                    None
                });
                return;
            }
            _ => {}
        }
    }
    match value {
        Value::Sequence(items) => items.iter().for_each(|v| collect_references(v, found)),
        Value::Mapping(map) => map.values().for_each(|v| collect_references(v, found)),
        _ => {}
    }
}

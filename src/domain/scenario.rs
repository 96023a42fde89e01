//! A drill's scenario as read from its file (`assets/scenarios/*.toml`,
//! checked by `drill::scenario`): the faults to inject, the signals to
//! expect and the objectives. The simulation runs the faults and judges
//! the objectives; the drill's bookkeeping and report read the rest.

use serde::Deserialize;
use toml::Spanned;

/// How hard a scenario is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    pub fn word(self) -> &'static str {
        match self {
            Self::Easy => "easy",
            Self::Medium => "medium",
            Self::Hard => "hard",
        }
    }
}

/// One scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: Spanned<String>,
    pub title: String,
    pub difficulty: Difficulty,
    /// The page the operator receives (shown before the drill starts).
    pub briefing: String,
    /// The simulated world (`assets/sim/world.toml`).
    pub world: Spanned<String>,
    pub seed: u64,
    /// The drill ends here, objectives met or not.
    pub time_limit: Spanned<String>,
    /// What a good response looks like, for "what could have been faster".
    /// `{key:COMMAND}` stands for the key the operator has bound to a
    /// command (`{key:rollback}`), so the advice names the real key.
    #[serde(default)]
    pub hint: Option<Spanned<String>>,
    /// The time to mitigate a good response stays under.
    #[serde(default)]
    pub target_ttm: Option<Spanned<String>>,
    /// The services and DB instances the operator should look at (for
    /// "time to first look"); else those the injects target.
    #[serde(default)]
    pub affected: Vec<Spanned<String>>,
    #[serde(rename = "inject")]
    pub injects: Vec<Inject>,
    #[serde(default, rename = "expect")]
    pub expected: Vec<Signal>,
    pub objectives: Objectives,
    #[serde(default)]
    pub forbidden: Vec<Forbidden>,
    #[serde(default)]
    pub debrief: Vec<String>,
    /// Where it was read from (not in the file).
    #[serde(skip)]
    pub source: String,
}

/// One fault, injected at a time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    /// Seconds after the drill starts (`90s`, `2m`).
    #[serde(default)]
    pub at: Option<Spanned<String>>,
    /// Or: after the previous inject.
    #[serde(default)]
    pub after: Option<Spanned<String>>,
    pub fault: Spanned<String>,
    /// What it acts on (none for the API faults: every call).
    #[serde(default)]
    pub target: Option<Spanned<Target>>,
    /// How long it lasts (else until its cause is fixed, or for good).
    #[serde(default)]
    pub duration: Option<Spanned<String>>,
    /// Whether its metric effects go away when it ends (else they stay:
    /// used storage stays used).
    #[serde(default = "yes")]
    pub auto_revert: bool,
    /// `honban:ecs:bad-image`: `crash` (exits at once), `pull` (the image
    /// does not exist) or `runs` (runs, and misbehaves through `effects`).
    #[serde(default)]
    pub mode: Option<Spanned<String>>,
    /// `honban:ecs:bad-image`: `as-configured`, `no-rollback` or `off`.
    #[serde(default)]
    pub circuit_breaker: Option<Spanned<String>>,
    /// `aws:rds:reboot-db-instances`: fail over to the standby.
    #[serde(default)]
    pub force_failover: bool,
    /// `aws:ecs:task-cpu-stress`: CPU points added;
    /// `aws:fis:inject-api-throttle-error`: the share of calls throttled.
    #[serde(default)]
    pub percent: Option<f64>,
    /// `aws:ecs:stop-task`: how many tasks.
    #[serde(default)]
    pub count: Option<u32>,
    /// Metrics the fault moves while it holds.
    #[serde(default)]
    pub effects: Vec<EffectSpec>,
}

impl Inject {
    /// Its target (empty when it has none).
    pub fn target(&self) -> Target {
        self.target
            .as_ref()
            .map(|t| t.get_ref().clone())
            .unwrap_or_default()
    }
}

fn yes() -> bool {
    true
}

/// What a fault acts on: exactly one of these.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub db: Option<String>,
    #[serde(default)]
    pub az: Option<String>,
}

impl Target {
    /// `service web`, `db works-logue-prod-db`, `AZ ap-northeast-1a`.
    pub fn label(&self) -> String {
        match (&self.service, &self.db, &self.az) {
            (Some(s), _, _) => format!("service {s}"),
            (_, Some(d), _) => format!("DB {d}"),
            (_, _, Some(a)) => format!("AZ {a}"),
            _ => String::new(),
        }
    }

    /// The resource's name as the console lists it.
    pub fn name(&self) -> Option<&str> {
        self.service
            .as_deref()
            .or(self.db.as_deref())
            .or(self.az.as_deref())
    }
}

/// A metric a fault moves: `add` at once, then `per_minute` more.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectSpec {
    pub metric: Spanned<String>,
    #[serde(default)]
    pub add: f64,
    #[serde(default)]
    pub per_minute: f64,
}

/// A signal the scenario expects the console to show.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    pub alarm: Spanned<String>,
    /// At the latest this long after the drill starts.
    pub by: Spanned<String>,
}

/// What counts as mitigated and as recovered: every condition holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objectives {
    pub mitigated: Vec<Spanned<Condition>>,
    pub recovered: Vec<Spanned<Condition>>,
}

/// One condition on the simulated world: exactly one subject.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Inject N (1-based) no longer holds.
    #[serde(default)]
    pub cleared: Option<usize>,
    #[serde(default)]
    pub service: Option<String>,
    /// With `service`: its rollout completed, all desired tasks running
    /// and healthy.
    #[serde(default)]
    pub steady: Option<bool>,
    /// With `service`: at least this many tasks desired.
    #[serde(default)]
    pub min_desired: Option<u32>,
    #[serde(default)]
    pub alarm: Option<String>,
    #[serde(default)]
    pub db: Option<String>,
    /// With `alarm` (`OK`, `ALARM`) or `db` (`available`).
    #[serde(default)]
    pub state: Option<String>,
}

impl Condition {
    /// How the report words it.
    pub fn label(&self) -> String {
        if let Some(n) = self.cleared {
            return format!("fault {n} cleared");
        }
        if let Some(s) = &self.service {
            let mut parts = Vec::new();
            if self.steady == Some(true) {
                parts.push("steady".to_string());
            }
            if let Some(n) = self.min_desired {
                parts.push(format!("at least {n} tasks desired"));
            }
            return format!("service {s} {}", parts.join(", "));
        }
        if let Some(a) = &self.alarm {
            return format!("alarm {a} {}", self.state.as_deref().unwrap_or("OK"));
        }
        if let Some(d) = &self.db {
            return format!("DB {d} {}", self.state.as_deref().unwrap_or("available"));
        }
        String::new()
    }
}

/// An action the operator should not take here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forbidden {
    pub action: Spanned<String>,
    /// Only on this service (else any).
    #[serde(default)]
    pub service: Option<Spanned<String>>,
    /// Only on this DB instance (else any).
    #[serde(default)]
    pub db: Option<Spanned<String>>,
    /// Why it is unsafe here (the report says it).
    pub why: String,
}

impl Scenario {
    pub fn id(&self) -> &str {
        self.id.get_ref()
    }

    pub fn world(&self) -> &str {
        self.world.get_ref()
    }

    /// The time limit in seconds (checked when parsed).
    pub fn time_limit_secs(&self) -> i64 {
        span_secs(self.time_limit.get_ref()).unwrap_or(0)
    }

    pub fn target_ttm_secs(&self) -> Option<i64> {
        self.target_ttm
            .as_ref()
            .and_then(|t| span_secs(t.get_ref()))
    }

    /// When each inject fires, in seconds after the start.
    pub fn inject_offsets(&self) -> Vec<i64> {
        let mut last = 0;
        self.injects
            .iter()
            .map(|i| {
                let at = match (&i.at, &i.after) {
                    (Some(at), _) => span_secs(at.get_ref()).unwrap_or(0),
                    (None, Some(after)) => last + span_secs(after.get_ref()).unwrap_or(0),
                    (None, None) => last,
                };
                last = at;
                at
            })
            .collect()
    }

    /// The services and DB instances the faults hit (for "time to first
    /// look"; an AZ is not a resource one opens).
    pub fn affected(&self) -> Vec<String> {
        if !self.affected.is_empty() {
            return self.affected.iter().map(|a| a.get_ref().clone()).collect();
        }
        let mut out: Vec<String> = Vec::new();
        for i in &self.injects {
            let t = i.target();
            if let Some(n) = t.service.as_deref().or(t.db.as_deref())
                && !out.iter().any(|o| o == n)
            {
                out.push(n.to_string());
            }
        }
        out
    }
}

/// `90s`, `5m`, `1h`, `2m30s` in seconds.
pub fn span_secs(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            _ => return None,
        };
        let n: i64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
        any = true;
    }
    (any && number.is_empty() && total <= 24 * 3_600).then_some(total)
}

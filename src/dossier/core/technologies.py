"""The technology vocabulary: ~100 names with their categories and usual spellings, and
where a free text names them ("Postgres" -> PostgreSQL, "AWS" -> Amazon Web Services).

Used by the job collectors (the technologies a posting names, with the sentence), and by
the analysts (a question about "AWS" is about Amazon Web Services). Pure.
"""

from __future__ import annotations

import re

SENTENCE_CHARS = 240  # evidence is the sentence naming the technology, clipped to this
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+|(?<=[:;])\s+(?=[A-Z•*-])")

# (name, category, regex, case-sensitive). Case-sensitive where the name is also a common
# word ("React" vs "react to", "Swift" vs "swift", "Rust" vs "rust"). "Go" needs company:
# a list of languages ("Python, Go, Rust") or "Go" + a programming noun.
_KEYWORDS: tuple[tuple[str, str, str, bool], ...] = (
    ("Python", "Programming languages", r"Python", False),
    ("Java", "Programming languages", r"Java", False),
    ("JavaScript", "Programming languages", r"JavaScript|ECMAScript", False),
    ("TypeScript", "Programming languages", r"TypeScript", False),
    (
        "Go",
        "Programming languages",
        r"Golang|Go(?=\s*(?:[,/)]|and\b|or\b|services?\b|"
        r"code\b|developer|engineer|programming|microservices))|(?<=[,/(]\s)Go|(?<=[,/(])Go",
        True,
    ),
    ("Rust", "Programming languages", r"Rust", True),
    ("Kotlin", "Programming languages", r"Kotlin", False),
    ("Swift", "Programming languages", r"Swift(?:UI)?", True),
    ("Objective-C", "Programming languages", r"Objective-C", False),
    ("Scala", "Programming languages", r"Scala", True),
    ("Ruby", "Programming languages", r"Ruby", True),
    ("PHP", "Programming languages", r"PHP", False),
    ("C++", "Programming languages", r"C\+\+", False),
    ("C#", "Programming languages", r"C#", False),
    (".NET", "Web frameworks", r"\.NET|dotnet", False),
    ("Elixir", "Programming languages", r"Elixir", False),
    ("Erlang", "Programming languages", r"Erlang", False),
    ("Haskell", "Programming languages", r"Haskell", False),
    ("Clojure", "Programming languages", r"Clojure", False),
    ("SQL", "Databases", r"SQL", True),
    ("React", "JavaScript frameworks", r"React(?:\.?js)?", True),
    ("React Native", "Mobile frameworks", r"React Native", False),
    ("Vue.js", "JavaScript frameworks", r"Vue(?:\.?js)?", True),
    ("Angular", "JavaScript frameworks", r"Angular(?:JS)?", True),
    ("Svelte", "JavaScript frameworks", r"Svelte(?:Kit)?", False),
    ("Next.js", "Web frameworks", r"Next\.?js", False),
    ("Node.js", "Programming languages", r"Node\.?js", False),
    ("Ruby on Rails", "Web frameworks", r"Ruby on Rails|Rails", True),
    ("Django", "Web frameworks", r"Django", False),
    ("Flask", "Web frameworks", r"Flask", True),
    ("FastAPI", "Web frameworks", r"FastAPI", False),
    ("Spring Boot", "Web frameworks", r"Spring Boot", False),
    ("Laravel", "Web frameworks", r"Laravel", False),
    ("GraphQL", "Development", r"GraphQL", False),
    ("gRPC", "Development", r"gRPC", False),
    ("Android", "Mobile", r"Android", False),
    ("iOS", "Mobile", r"iOS", True),
    ("Flutter", "Mobile frameworks", r"Flutter", True),
    ("PostgreSQL", "Databases", r"PostgreSQL|Postgres", False),
    ("MySQL", "Databases", r"MySQL", False),
    ("MongoDB", "Databases", r"MongoDB|Mongo", False),
    ("Redis", "Databases", r"Redis", False),
    ("Elasticsearch", "Search engines", r"Elasticsearch|Elastic Search", False),
    ("Cassandra", "Databases", r"Cassandra", True),
    ("DynamoDB", "Databases", r"DynamoDB", False),
    ("Snowflake", "Databases", r"Snowflake", True),
    ("BigQuery", "Databases", r"BigQuery", False),
    ("Redshift", "Databases", r"Redshift", False),
    ("Databricks", "Data platforms", r"Databricks", False),
    ("Apache Spark", "Data platforms", r"(?:Apache |Py)?Spark", True),
    ("Apache Kafka", "Message queues", r"(?:Apache )?Kafka", False),
    ("RabbitMQ", "Message queues", r"RabbitMQ", False),
    ("Apache Airflow", "Data platforms", r"(?:Apache )?Airflow", False),
    ("Apache Flink", "Data platforms", r"(?:Apache )?Flink", True),
    ("Hadoop", "Data platforms", r"Hadoop", False),
    ("dbt", "Data platforms", r"dbt", True),
    ("Kubernetes", "Containers", r"Kubernetes|K8s", False),
    ("Docker", "Containers", r"Docker", False),
    ("Terraform", "Infrastructure as code", r"Terraform", False),
    ("Pulumi", "Infrastructure as code", r"Pulumi", False),
    ("Ansible", "Infrastructure as code", r"Ansible", False),
    ("Helm", "Containers", r"Helm", True),
    ("Amazon Web Services", "PaaS", r"AWS|Amazon Web Services", False),
    ("Google Cloud", "PaaS", r"GCP|Google Cloud(?: Platform)?", False),
    ("Microsoft Azure", "PaaS", r"Azure", True),
    ("Linux", "Operating systems", r"Linux", False),
    ("Datadog", "Monitoring", r"Datadog", False),
    ("Prometheus", "Monitoring", r"Prometheus", True),
    ("Grafana", "Monitoring", r"Grafana", False),
    ("Splunk", "Monitoring", r"Splunk", False),
    ("Sentry", "Issue trackers", r"Sentry", True),
    ("New Relic", "Monitoring", r"New Relic", False),
    ("PagerDuty", "Monitoring", r"PagerDuty", False),
    ("Jenkins", "CI", r"Jenkins", True),
    ("GitHub Actions", "CI", r"GitHub Actions", False),
    ("CircleCI", "CI", r"CircleCI", False),
    ("GitLab", "CI", r"GitLab", False),
    ("PyTorch", "Machine learning", r"PyTorch", False),
    ("TensorFlow", "Machine learning", r"TensorFlow", False),
    ("scikit-learn", "Machine learning", r"scikit-learn|sklearn", False),
    ("pandas", "Machine learning", r"pandas", True),
    ("OpenAI", "Machine learning", r"OpenAI", False),
    ("LangChain", "Machine learning", r"LangChain", False),
    ("Tableau", "Analytics", r"Tableau", True),
    ("Looker", "Analytics", r"Looker", True),
    ("Power BI", "Analytics", r"Power ?BI", False),
    ("Amplitude", "Analytics", r"Amplitude", True),
    ("Mixpanel", "Analytics", r"Mixpanel", False),
    ("Salesforce", "CRM", r"Salesforce", False),
    ("HubSpot", "Marketing automation", r"HubSpot", False),
    ("Marketo", "Marketing automation", r"Marketo", False),
    ("Zendesk", "Live chat", r"Zendesk", False),
    ("Jira", "Issue trackers", r"Jira", False),
    ("Figma", "Development", r"Figma", False),
    ("Okta", "Security", r"Okta", True),
    ("Workday", "CRM", r"Workday", True),
    ("NetSuite", "CRM", r"NetSuite", False),
    ("SAP", "CRM", r"SAP", True),
    ("Twilio", "Development", r"Twilio", False),
    ("Cloudflare", "CDN", r"Cloudflare", False),
    ("Nginx", "Web servers", r"Nginx", False),
)
_KEYWORD_RES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (
        name,
        category,
        re.compile(
            rf"(?<![A-Za-z0-9_])(?:{pattern})(?![A-Za-z0-9_+#])",
            0 if case_sensitive else re.IGNORECASE,
        ),
    )
    for name, category, pattern, case_sensitive in _KEYWORDS
)
KEYWORD_CATEGORIES: dict[str, str] = {name: category for name, category, _, _ in _KEYWORDS}


def technologies_in_text(text: str) -> list[str]:
    """Technology names mentioned in ``text`` (a job description), in order of appearance.

    Word-boundary matching over a curated list of ~100 names with their usual spellings
    ("Postgres" -> PostgreSQL, "K8s" -> Kubernetes); "Java" does not match "JavaScript".
    """
    if not text:
        return []
    first_seen: dict[str, int] = {}
    for name, _, regex in _KEYWORD_RES:
        match = regex.search(text)
        if match:
            first_seen[name] = match.start()
    return sorted(first_seen, key=lambda name: (first_seen[name], name))


def technology_sentences(text: str) -> dict[str, str]:
    """Technology name -> the first sentence (or bullet) of ``text`` that names it: the
    evidence a seller can read ("Experience with Terraform and AWS is a plus.")."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for sentence in _SENTENCE_END.split(text):
        sentence = " ".join(sentence.split()).lstrip("•*- ")
        if not sentence:
            continue
        for name in technologies_in_text(sentence):
            if name not in out:
                clipped = sentence[:SENTENCE_CHARS]
                out[name] = clipped + ("…" if len(sentence) > SENTENCE_CHARS else "")
    return out

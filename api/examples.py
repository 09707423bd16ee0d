"""Examples of every request and response body, for the OpenAPI document (attached by
`api.openapi.customise`, checked against their schemas by tests/test_contract.py).

Drawn from a real case: a premium, severity A case opened by the contact center and
answered by phone; instants in UTC, as the API gives them.
"""

from __future__ import annotations

from typing import Any

CASE: dict[str, Any] = {
    "case_id": "CASE-000123",
    "stage": "resolucion_telefonica",
    "plan": "premium",
    "severity": "A",
    "severity_assignment": {
        "severity": "A",
        "reason": "correo caído para todos",
        "rule": None,
        "impact": None,
    },
    "customer": {
        "id": "C-7",
        "name": "Lucía Pérez",
        "email": "lucia@example.com",
        "phone": "+34 600 000 000",
    },
    "summary": "Nadie puede enviar correo",
    "description": None,
    "affected_services": ["correo"],
    "registered_at": "2026-11-25T09:12:21Z",
    "opened_by": "centralita",
    "queued_at": "2026-11-25T09:12:21Z",
    "sla": {
        "state": "met",
        "policy_version": "2026-11-01",
        "availability": "24/7",
        "target": "1h",
        "committed": True,
        "attention_from": "2026-11-25T09:12:21Z",
        "response_due": "2026-11-25T10:12:21Z",
        "warning_at": "2026-11-25T09:57:21Z",
        "responded_at": "2026-11-25T09:14:05Z",
        "warned_at": None,
        "breached_at": None,
    },
    "contacts": [
        {
            "attempt_id": "bbc0b3cf-4c30-41f0-81c3-dd2c9960caff",
            "channel": "phone",
            "outcome": "reached",
            "agent": "ana",
            "note": "Reinicio del servidor de correo en curso",
            "at": "2026-11-25T09:14:05Z",
        }
    ],
    "authorizations": [],
    "sessions": [],
    "resolutions": [],
    "resolved_at": None,
    "reopen_until": None,
    "closed_at": None,
    "cancelled_at": None,
    "cancel_reason": None,
    "allowed_actions": ["contact", "change_severity", "cancel", "request_remote_access", "resolve"],
    "revision": 2,
    "temporal_ui_url": "http://127.0.0.1:8233/namespaces/default/workflows/CASE-000123",
    "source": "workflow",
}

HISTORY: dict[str, Any] = {
    "case_id": "CASE-000123",
    "temporal_ui_url": "http://127.0.0.1:8233/namespaces/default/workflows/CASE-000123",
    "entries": [
        {
            "seq": 1,
            "revision": 1,
            "at": "2026-11-25T09:12:21Z",
            "actor": "centralita",
            "type": "case_registered",
            "label": "Caso registrado",
            "summary": "Caso registrado: plan premium, gravedad A",
            "change": None,
            "data": {
                "plan": "premium",
                "severity": "A",
                "commitment": {
                    "target": "1h",
                    "committed": True,
                    "warning_at": "2026-11-25T09:57:21Z",
                    "availability": "24/7",
                    "response_due": "2026-11-25T10:12:21Z",
                    "attention_from": "2026-11-25T09:12:21Z",
                    "policy_version": "2026-11-01",
                },
                "severity_assignment": {
                    "rule": None,
                    "impact": None,
                    "reason": "correo caído para todos",
                    "severity": "A",
                },
            },
        },
        {
            "seq": 2,
            "revision": 1,
            "at": "2026-11-25T09:12:21Z",
            "actor": "sistema",
            "type": "case_queued",
            "label": "Caso en la cola de los agentes",
            "summary": "Caso en la cola de los agentes",
            "change": None,
            "data": {"attention_from": "2026-11-25T09:12:21Z"},
        },
        {
            "seq": 3,
            "revision": 2,
            "at": "2026-11-25T09:12:21Z",
            "actor": "ana",
            "type": "contact_logged",
            "label": "Contacto con el cliente",
            "summary": "Contacto con el cliente: llamada: cliente localizado",
            "change": None,
            "data": {
                "attempt": {
                    "at": "2026-11-25T09:14:05Z",
                    "note": "llamada",
                    "agent": "ana",
                    "channel": "phone",
                    "outcome": "reached",
                    "attempt_id": "bbc0b3cf-4c30-41f0-81c3-dd2c9960caff",
                }
            },
        },
    ],
}

EVENT: dict[str, Any] = {
    "seq": 1,
    "event_id": "4d1affec-327f-5d49-84ca-61765d0a3f09",
    "case_id": "CASE-000123",
    "revision": 1,
    "type": "case_registered",
    "at": "2026-11-25T09:14:05Z",
    "actor": "centralita",
    "data": {
        "plan": "premium",
        "severity": "A",
        "commitment": {
            "target": "1h",
            "committed": True,
            "warning_at": "2026-11-25T10:57:21+01:00",
            "availability": "24/7",
            "response_due": "2026-11-25T11:12:21+01:00",
            "attention_from": "2026-11-25T10:12:21+01:00",
            "policy_version": "2026-11-01",
        },
        "severity_assignment": {
            "rule": None,
            "impact": None,
            "reason": "correo caído para todos",
            "severity": "A",
        },
    },
}

NOTIFICATION: dict[str, Any] = {
    "notification_id": "e7e8793c-2725-41e1-88c9-482c84917187",
    "case_id": "CASE-000123",
    "audience": "agents",
    "kind": "case_queued",
    "message": "Caso CASE-000123 (gravedad A, plan premium) en cola: Nadie puede enviar correo",
    "created_at": "2026-11-25T09:14:05Z",
}

SUMMARY: dict[str, Any] = {
    "case_id": "CASE-000123",
    "stage": "resolucion_telefonica",
    "plan": "premium",
    "severity": "A",
    "customer_id": "C-7",
    "customer_name": "Lucía Pérez",
    "summary": "Nadie puede enviar correo",
    "sla_state": "met",
    "response_due": "2026-11-25T10:12:21Z",
    "registered_at": "2026-11-25T09:12:21Z",
    "queued": True,
}

REPORT: dict[str, Any] = {
    "from": "2026-11-01T00:00:00Z",
    "to": "2026-12-01T00:00:00Z",
    "timezone": "Europe/Madrid",
    "active_policy_version": "2026-11-01",
    "policy_versions": ["2026-11-01"],
    "cells": [
        {
            "opened": 0,
            "committed": 0,
            "met": 0,
            "breached": 0,
            "pending": 0,
            "not_committed": 0,
            "responded": 0,
            "first_response_median_seconds": None,
            "first_response_p90_seconds": None,
            "policy_version": "2026-11-01",
            "plan": "free",
            "severity": "A",
            "availability": "24/7",
            "target": "1h",
        }
    ],
    "totals": {
        "opened": 1,
        "committed": 1,
        "met": 1,
        "breached": 0,
        "pending": 0,
        "not_committed": 0,
        "responded": 1,
        "first_response_median_seconds": 0.317953,
        "first_response_p90_seconds": 0.317953,
    },
}

EVALUATION: dict[str, Any] = {
    "policy_version": "2026-11-01",
    "plan": "premium",
    "severity": "A",
    "availability": "24/7",
    "target": "1h",
    "committed": True,
    "registered_at": "2026-11-25T09:00:00Z",
    "response_due": "2026-11-25T10:00:00Z",
    "warning_at": "2026-11-25T09:45:00Z",
    "attention_from": "2026-11-25T09:00:00Z",
}

MATRIX: dict[str, Any] = {
    "version": "2026-11-01",
    "timezone": "Europe/Madrid",
    "business_hours": {"start": "09:00:00", "end": "18:00:00", "weekdays": [1, 2, 3, 4, 5]},
    "holidays": [
        {"date": "2026-01-01", "name": "Año Nuevo"},
        {"date": "2026-01-06", "name": "Epifanía del Señor"},
        {"date": "2026-04-03", "name": "Viernes Santo"},
        {"date": "2026-05-01", "name": "Fiesta del Trabajo"},
        {"date": "2026-08-15", "name": "Asunción de la Virgen"},
        {"date": "2026-10-12", "name": "Fiesta Nacional de España"},
        {"date": "2026-11-01", "name": "Todos los Santos"},
        {"date": "2026-12-06", "name": "Día de la Constitución Española"},
        {"date": "2026-12-08", "name": "Inmaculada Concepción"},
        {"date": "2026-12-25", "name": "Natividad del Señor"},
        {"date": "2027-01-01", "name": "Año Nuevo"},
        {"date": "2027-01-06", "name": "Epifanía del Señor"},
        {"date": "2027-03-26", "name": "Viernes Santo"},
        {"date": "2027-05-01", "name": "Fiesta del Trabajo"},
        {"date": "2027-08-15", "name": "Asunción de la Virgen"},
        {"date": "2027-10-12", "name": "Fiesta Nacional de España"},
        {"date": "2027-11-01", "name": "Todos los Santos"},
        {"date": "2027-12-06", "name": "Día de la Constitución Española"},
        {"date": "2027-12-08", "name": "Inmaculada Concepción"},
        {"date": "2027-12-25", "name": "Natividad del Señor"},
    ],
    "calendar": "es-nacional",
    "cells": {
        "free": {
            "A": {"availability": "24/7", "target": "1h", "warning_threshold": 0.75},
            "B": {"availability": "business_hours", "target": None, "warning_threshold": 0.75},
            "C": {"availability": "business_hours", "target": None, "warning_threshold": 0.75},
        },
        "basico": {
            "A": {"availability": "24/7", "target": "1h", "warning_threshold": 0.75},
            "B": {"availability": "24/7", "target": "next_day", "warning_threshold": 0.75},
            "C": {"availability": "24/7", "target": None, "warning_threshold": 0.75},
        },
        "estandar": {
            "A": {"availability": "24/7", "target": "1h", "warning_threshold": 0.75},
            "B": {"availability": "24/7", "target": "2h", "warning_threshold": 0.75},
            "C": {"availability": "24/7", "target": "4h", "warning_threshold": 0.75},
        },
        "premium": {
            "A": {"availability": "24/7", "target": "1h", "warning_threshold": 0.75},
            "B": {"availability": "24/7", "target": "2h", "warning_threshold": 0.75},
            "C": {"availability": "24/7", "target": "4h", "warning_threshold": 0.75},
        },
    },
}

READY: dict[str, Any] = {
    "status": "ready",
    "postgresql": "ok",
    "temporal": "ok",
    "projection": "current",
    "cases_behind": 0,
    "worker": "polling",
    "worker_pollers": 1,
}


CUSTOMER = {
    "id": "C-7",
    "name": "Lucía Pérez",
    "email": "lucia@example.com",
    "phone": "+34 600 000 000",
}
INTAKE = {
    "customer": CUSTOMER,
    "plan": "premium",
    "summary": "Nadie puede enviar correo",
    "description": "Desde las 9:00 ningún usuario de la oficina puede enviar correo.",
    "affected_services": ["correo"],
}

# By component name: one example, or named ones (the `oneOf` bodies, one per shape).
EXAMPLES: dict[str, Any] = {
    "CaseOut": CASE,
    "CaseSummaryOut": SUMMARY,
    "EventOut": EVENT,
    "NotificationOut": NOTIFICATION,
    "HistoryOut": HISTORY,
    "SlaReportOut": REPORT,
    "EvaluateOut": EVALUATION,
    "SlaPolicy": MATRIX,
    "ReadyOut": READY,
    "HealthOut": {"status": "ok"},
    "IntakeAccepted": {
        "case_id": "CASE-000123",
        "stage": "registro",
        "detail": "case accepted; it is registered as soon as a worker is available",
    },
    "CloseIn": {"request_id": "close-CASE-000123"},
    "ReasonIn": {"reason": "El cliente confirma que vuelve a fallar el envío de correo"},
    "RemoteRequestIn": {
        "reason": "Revisar la configuración del servidor de correo",
        "access": "control",
    },
    "SessionEndIn": {
        "outcome": "completed",
        "summary": "Reiniciado el servicio SMTP; envío probado",
    },
    "ResolveIn": {"methods": ["phone", "remote"], "summary": "Servidor de correo reiniciado"},
    "SeverityIn": {"severity": "B", "reason": "Solo afecta a dos usuarios"},
    "PlanIn": {"plan": "estandar", "reason": "Contrato renovado como estándar"},
}
NAMED_EXAMPLES: dict[str, dict[str, Any]] = {
    "CaseCreate": {
        "graded by the contact center": INTAKE
        | {"severity": "A", "severity_reason": "nadie puede enviar correo"},
        "graded by the seed's impact rules": INTAKE
        | {
            "impact": {
                "services_unavailable": True,
                "users_affected": "several",
                "business_impact": "severe",
                "workaround_available": False,
            }
        },
    },
    "ContactIn": {
        "a call that reached the customer": {
            "channel": "phone",
            "outcome": "reached",
            "note": "Reinicio del servidor de correo en curso",
            "request_id": "call-1",
        },
        "an email sent": {"channel": "email", "outcome": "sent"},
    },
}

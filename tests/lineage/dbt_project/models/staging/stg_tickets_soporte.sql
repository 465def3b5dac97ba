-- Staging: one clean row per support ticket, channel names normalised.
select
    id_ticket,
    id_cliente,
    abierto_en,
    lower(canal) as canal,
    categoria,
    prioridad,
    estado,
    minutos_resolucion,
    estado = 'resuelto' as resuelto
from {{ source('soporte_crudo', 'tickets_soporte') }}

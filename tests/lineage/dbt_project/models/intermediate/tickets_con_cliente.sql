-- Joined: each ticket with the customer's province, segment and tariff.
select
    t.id_ticket,
    t.abierto_en,
    t.canal,
    t.categoria,
    t.prioridad,
    t.estado,
    t.resuelto,
    t.minutos_resolucion,
    c.id_cliente,
    c.provincia,
    c.segmento,
    c.tarifa
from {{ ref('stg_tickets_soporte') }} as t
inner join {{ source('soporte_crudo', 'clientes') }} as c on c.id_cliente = t.id_cliente

-- one row: offences recorded on Connect in the period (by offence date) by people with a
-- referral in the tracker snapshot, whenever they were referred; the sum of offences_by_area.
-- params: $snapshot_id, $from_date, $to_date, $scope_officers
-- access: referrals
with people as (
    select distinct nominal_id
    from scoped_referrals($snapshot_id, $scope_officers, null, null, null)
),

final as (
    select count(*) as offences
    from crimes c
    join people p using (nominal_id)
    where c.offence_date between coalesce($from_date::date, c.offence_date)
                             and coalesce($to_date::date, c.offence_date)
)

select * from final
